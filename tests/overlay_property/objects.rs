//! The objects a case starts from: Deployments, StatefulSets, CronJobs, Services, roles and
//! bindings, ConfigMaps and a custom resource, in resource files.

use serde_json::{Map, Value, json};

use super::generator::{Gen, image_name};
use super::model::{APPS, DATA_KEYS, ENV_NAMES, Known, RESOURCE_FILES, SIDECARS};
use super::values::{line, raw_token, text};
use super::yaml_text::{to_json_or_yaml, to_yaml};

impl Gen {
    pub(super) fn base_objects(&mut self) -> Vec<Value> {
        let apps = self.rng.some(APPS, 1, 2);
        let mut objects = Vec::new();
        // Objects that workloads refer to come first, so the workloads can name them.
        if self.rng.chance(60) {
            let app = self.rng.pick(&apps);
            objects.push(self.config_map("settings", app));
        }
        if self.rng.chance(50) {
            objects.push(self.service_account(apps[0]));
        }
        for app in &apps {
            objects.push(self.deployment(app, app));
            if self.rng.chance(60) {
                objects.push(self.service(app));
            }
        }
        if self.rng.chance(40) {
            objects.extend(self.role_and_binding(apps[0]));
        }
        if self.rng.chance(25) {
            objects.extend(self.cluster_role_and_binding(apps[0]));
        }
        if self.rng.chance(50) {
            objects.push(self.widget("gadget", apps[0]));
        }
        if self.rng.chance(15) {
            let metadata = json!({"name": "extra-ns", "labels": {"app": apps[0]}});
            objects.push(self.object("v1", "Namespace", metadata, Map::new()));
        }
        if self.rng.chance(20) {
            objects.extend(self.stateful_set(apps[0]));
        }
        if self.rng.chance(20) {
            objects.push(self.cron_job(apps[0]));
        }
        if self.rng.chance(25) {
            objects.extend(self.traffic(apps[0]));
        }
        objects
    }

    /// Objects an overlay adds beside its base.
    pub(super) fn more_objects(&mut self, dir: &str) -> Vec<Value> {
        let mut objects = Vec::new();
        if self.rng.chance(50) {
            let app = self.rng.pick(APPS);
            objects.push(self.config_map(&format!("extra-{dir}"), app));
        }
        if self.rng.chance(40) {
            let app = self.rng.pick(APPS);
            objects.push(self.widget(&format!("gizmo-{dir}"), app));
        }
        if objects.is_empty() || self.rng.chance(30) {
            let name = format!("batch-{dir}");
            objects.push(self.deployment(&name, &name));
        }
        objects
    }

    /// Writes `objects` into one to three files of `dir`; returns their `resources` entries.
    pub(super) fn resource_files(&mut self, dir: &str, objects: Vec<Value>) -> Vec<Value> {
        let count = self.rng.range(1, 3.min(objects.len()));
        let names = self.rng.some(RESOURCE_FILES, count, count);
        let mut files: Vec<Vec<Value>> = vec![Vec::new(); count];
        for object in objects {
            files[self.rng.below(count)].push(object);
        }
        let mut entries = Vec::new();
        for (name, objects) in names.into_iter().zip(files) {
            if objects.is_empty() {
                continue;
            }
            let text = if objects.len() > 1 && self.rng.chance(10) {
                let list = json!({"apiVersion": "v1", "kind": "List", "items": objects});
                to_yaml(&mut self.rng, &list)
            } else {
                let documents: Vec<String> = objects
                    .iter()
                    .map(|o| to_json_or_yaml(&mut self.rng, o))
                    .collect();
                let start = if self.rng.chance(15) { "---\n" } else { "" };
                format!("{start}{}", documents.join("---\n"))
            };
            self.files.insert(format!("{dir}/{name}"), text);
            entries.push(json!(name));
        }
        entries
    }

    /// An object with `metadata` and the other top-level `fields`, recorded in the model.
    pub(super) fn object(
        &mut self,
        api_version: &str,
        kind: &str,
        metadata: Value,
        fields: Map<String, Value>,
    ) -> Value {
        let mut object = Map::new();
        object.insert("apiVersion".into(), json!(api_version));
        object.insert("kind".into(), json!(kind));
        object.insert("metadata".into(), metadata);
        object.extend(fields);
        let object = Value::Object(object);
        self.known.push(Known::of(&object, false));
        object
    }

    /// `metadata` with a name, an `app` label, sometimes annotations and a namespace.
    pub(super) fn metadata(&mut self, name: &str, app: &str, namespaced: bool) -> Value {
        let mut metadata = json!({"name": name, "labels": {"app": app}});
        if self.rng.chance(30) {
            metadata["labels"]["tier"] = json!(line(&mut self.rng));
        }
        if self.rng.chance(40) {
            metadata["annotations"] = json!({"note": text(&mut self.rng)});
        }
        if namespaced && self.rng.chance(15) {
            metadata["namespace"] = json!(self.rng.pick(&["default", "other-ns"]));
        }
        metadata
    }

    pub(super) fn config_map(&mut self, name: &str, app: &str) -> Value {
        let metadata = self.metadata(name, app, true);
        let data = self.pairs(DATA_KEYS, 1, 4, text);
        let mut fields = Map::new();
        fields.insert("data".into(), data);
        self.object("v1", "ConfigMap", metadata, fields)
    }

    pub(super) fn service_account(&mut self, app: &str) -> Value {
        let metadata = self.metadata("runner", app, true);
        let mut fields = Map::new();
        if self.rng.chance(30) {
            fields.insert("automountServiceAccountToken".into(), json!(false));
        }
        if self.rng.chance(30) {
            fields.insert("imagePullSecrets".into(), json!([{"name": "regcred"}]));
        }
        self.object("v1", "ServiceAccount", metadata, fields)
    }

    pub(super) fn service(&mut self, app: &str) -> Value {
        let metadata = self.metadata(app, app, true);
        let target_port = if self.rng.chance(50) {
            json!(8080)
        } else {
            json!("http")
        };
        let mut spec = json!({
            "selector": {"app": app},
            "ports": [{"name": "http", "port": 80, "targetPort": target_port}],
        });
        if self.rng.chance(30) {
            spec["type"] = json!("ClusterIP");
        }
        let mut fields = Map::new();
        fields.insert("spec".into(), spec);
        self.object("v1", "Service", metadata, fields)
    }

    pub(super) fn image(&mut self) -> String {
        let digest = self.rng.hex(64);
        let image = match self.rng.below(9) {
            0 => "nginx:1.27".to_owned(),
            1 => "nginx".to_owned(),
            2 => "docker.io/library/nginx:1.25.3".to_owned(),
            3 => "registry.example.com:5000/team/app:v1.2.3".to_owned(),
            4 => format!("ghcr.io/acme/tool@sha256:{digest}"),
            5 => format!("ghcr.io/acme/tool:2.0@sha256:{digest}"),
            6 => "busybox".to_owned(),
            7 => "redis:7.2-alpine".to_owned(),
            _ => "quay.io/prometheus/node-exporter:v1.8.1".to_owned(),
        };
        let name = image_name(&image);
        if !self.images.contains(&name) {
            self.images.push(name);
        }
        image
    }

    pub(super) fn generated_name(&mut self, kind: &str) -> Option<String> {
        let names: Vec<String> = self
            .generated
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, n)| n.clone())
            .collect();
        (!names.is_empty()).then(|| names[self.rng.below(names.len())].clone())
    }

    /// A ConfigMap that exists by now: a plain one or a generated one.
    pub(super) fn config_map_name(&mut self) -> Option<String> {
        let plain = self
            .known
            .iter()
            .any(|k| k.kind == "ConfigMap" && !k.generated);
        match self.generated_name("ConfigMap") {
            Some(generated) if !plain || self.rng.chance(50) => Some(generated),
            _ => plain.then(|| "settings".to_owned()),
        }
    }

    pub(super) fn env(&mut self) -> Vec<Value> {
        let names = self.rng.some(ENV_NAMES, 1, 3);
        let mut env = Vec::new();
        for (i, name) in names.into_iter().enumerate() {
            let mut entry = json!({"name": name});
            let config_map = self.config_map_name();
            let secret = self.generated_name("Secret");
            match (i > 0, self.rng.below(10), config_map, secret) {
                (true, 0..=1, Some(config_map), _) => {
                    entry["valueFrom"] =
                        json!({"configMapKeyRef": {"name": config_map, "key": "greeting"}});
                }
                (true, 2, _, Some(secret)) => {
                    entry["valueFrom"] = json!({"secretKeyRef": {"name": secret, "key": "token"}});
                }
                _ => entry["value"] = json!(text(&mut self.rng)),
            }
            env.push(entry);
        }
        env
    }

    pub(super) fn container(&mut self, name: &str, first: bool) -> Value {
        let mut container = json!({"name": name, "image": self.image()});
        if first || self.rng.chance(40) {
            container["env"] = Value::Array(self.env());
        }
        if self.rng.chance(30) {
            let args: Vec<Value> = (0..self.rng.range(1, 3))
                .map(|_| json!(text(&mut self.rng)))
                .collect();
            container["args"] = Value::Array(args);
        }
        if self.rng.chance(15) {
            container["command"] = json!(["/bin/sh", "-c", line(&mut self.rng)]);
        }
        if self.rng.chance(50) {
            let mut port = json!({"containerPort": 8080 + self.rng.below(3), "name": "http"});
            if self.rng.chance(30) {
                port["protocol"] = json!(self.rng.pick(&["TCP", "UDP"]));
            }
            container["ports"] = json!([port]);
        }
        if self.rng.chance(30) {
            if let Some(config_map) = self.generated_name("ConfigMap") {
                container["envFrom"] = json!([{"configMapRef": {"name": config_map}}]);
            } else if let Some(secret) = self.generated_name("Secret") {
                container["envFrom"] = json!([{"secretRef": {"name": secret}, "prefix": "S_"}]);
            }
        }
        container
    }

    pub(super) fn deployment(&mut self, name: &str, app: &str) -> Value {
        let metadata = self.metadata(name, app, true);
        let mut names = vec![name.to_owned()];
        let sidecars = self.rng.range(0, 2);
        names.extend(
            self.rng
                .some(SIDECARS, sidecars, sidecars)
                .into_iter()
                .map(str::to_owned),
        );
        let containers: Vec<Value> = names
            .iter()
            .enumerate()
            .map(|(i, n)| self.container(n, i == 0))
            .collect();
        let mut pod = json!({"containers": containers});
        if self.rng.chance(25) {
            pod["initContainers"] = json!([{"name": "init", "image": self.image()}]);
        }
        if self.rng.chance(40) {
            pod["serviceAccountName"] = json!("runner");
        }
        let volume = if self.rng.chance(40) {
            self.config_map_name()
        } else {
            None
        };
        if let Some(config_map) = volume {
            pod["volumes"] = json!([{"name": "config", "configMap": {"name": config_map}}]);
            pod["containers"][0]["volumeMounts"] =
                json!([{"name": "config", "mountPath": "/etc/config"}]);
            if self.rng.chance(30) {
                // Refers to the PVC `traffic` may write: renamed with it, or left alone.
                pod["volumes"].as_array_mut().expect("a list").push(
                    json!({"name": "cache", "persistentVolumeClaim": {"claimName": "cache"}}),
                );
            }
        }
        let mut template_labels = json!({"app": app});
        if self.rng.chance(30) {
            template_labels["tier"] = json!(line(&mut self.rng));
        }
        let mut spec = json!({
            "selector": {"matchLabels": {"app": app}},
            "template": {"metadata": {"labels": template_labels}, "spec": pod},
        });
        if self.rng.chance(60) {
            spec["replicas"] = json!(self.rng.range(1, 3));
        }
        let mut fields = Map::new();
        fields.insert("spec".into(), spec);
        self.object("apps/v1", "Deployment", metadata, fields)
    }

    /// A StatefulSet with its headless Service and a volume claim template.
    pub(super) fn stateful_set(&mut self, app: &str) -> Vec<Value> {
        let metadata = self.metadata("db-headless", app, true);
        let mut fields = Map::new();
        fields.insert(
            "spec".into(),
            json!({"clusterIP": "None", "selector": {"app": app, "role": "db"}, "ports": [{"port": 5432}]}),
        );
        let service = self.object("v1", "Service", metadata, fields);
        let metadata = self.metadata("db", app, true);
        let container = self.container("db", true);
        let mut fields = Map::new();
        fields.insert(
            "spec".into(),
            json!({
                "serviceName": "db-headless",
                "replicas": 1,
                "selector": {"matchLabels": {"app": app, "role": "db"}},
                "template": {
                    "metadata": {"labels": {"app": app, "role": "db"}},
                    "spec": {"containers": [container]},
                },
                "volumeClaimTemplates": [{
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "1Gi"}},
                    },
                }],
            }),
        );
        let stateful_set = self.object("apps/v1", "StatefulSet", metadata, fields);
        vec![service, stateful_set]
    }

    /// A CronJob: labels and annotations go into its job template and pod template too.
    pub(super) fn cron_job(&mut self, app: &str) -> Value {
        let metadata = self.metadata("nightly", app, true);
        let container = self.container("task", false);
        let mut fields = Map::new();
        fields.insert(
            "spec".into(),
            json!({
                "schedule": "0 3 * * *",
                "jobTemplate": {"spec": {"template": {"spec": {
                    "containers": [container],
                    "restartPolicy": "OnFailure",
                }}}},
            }),
        );
        self.object("batch/v1", "CronJob", metadata, fields)
    }

    /// Objects that refer to a workload or a Service by name: an Ingress, an HPA, a PDB, a PVC.
    pub(super) fn traffic(&mut self, app: &str) -> Vec<Value> {
        let mut objects = Vec::new();
        let metadata = self.metadata("edge", app, true);
        let secret = self
            .generated_name("Secret")
            .unwrap_or_else(|| "tls-cert".to_owned());
        let mut fields = Map::new();
        fields.insert(
            "spec".into(),
            json!({
                "tls": [{"hosts": ["app.example.com"], "secretName": secret}],
                "rules": [{"host": "app.example.com", "http": {"paths": [{
                    "path": "/",
                    "pathType": "Prefix",
                    "backend": {"service": {"name": app, "port": {"number": 80}}},
                }]}}],
            }),
        );
        objects.push(self.object("networking.k8s.io/v1", "Ingress", metadata, fields));
        let metadata = self.metadata(&format!("{app}-hpa"), app, true);
        let mut fields = Map::new();
        fields.insert(
            "spec".into(),
            json!({
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app},
                "minReplicas": 1,
                "maxReplicas": 5,
            }),
        );
        objects.push(self.object(
            "autoscaling/v2",
            "HorizontalPodAutoscaler",
            metadata,
            fields,
        ));
        let metadata = self.metadata(&format!("{app}-pdb"), app, true);
        let mut fields = Map::new();
        fields.insert(
            "spec".into(),
            json!({"minAvailable": 1, "selector": {"matchLabels": {"app": app}}}),
        );
        objects.push(self.object("policy/v1", "PodDisruptionBudget", metadata, fields));
        let metadata = self.metadata("cache", app, true);
        let mut fields = Map::new();
        fields.insert(
            "spec".into(),
            json!({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}}),
        );
        objects.push(self.object("v1", "PersistentVolumeClaim", metadata, fields));
        objects
    }

    pub(super) fn role_and_binding(&mut self, app: &str) -> Vec<Value> {
        let metadata = self.metadata("reader", app, true);
        let mut rule =
            json!({"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]});
        if self.rng.chance(50) {
            rule["resourceNames"] = json!(["settings"]);
        }
        let mut fields = Map::new();
        fields.insert("rules".into(), json!([rule]));
        let role = self.object("rbac.authorization.k8s.io/v1", "Role", metadata, fields);

        let metadata = self.metadata("reader-binding", app, true);
        let mut fields = Map::new();
        fields.insert(
            "roleRef".into(),
            json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"}),
        );
        fields.insert("subjects".into(), self.subjects(false));
        let binding = self.object(
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
            metadata,
            fields,
        );
        vec![role, binding]
    }

    pub(super) fn cluster_role_and_binding(&mut self, app: &str) -> Vec<Value> {
        let metadata = self.metadata("watcher", app, false);
        let mut fields = Map::new();
        fields.insert(
            "rules".into(),
            json!([{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["watch"]}]),
        );
        let role = self.object(
            "rbac.authorization.k8s.io/v1",
            "ClusterRole",
            metadata,
            fields,
        );
        let metadata = self.metadata("watcher-binding", app, false);
        let mut fields = Map::new();
        fields.insert(
            "roleRef".into(),
            json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "watcher"}),
        );
        fields.insert("subjects".into(), self.subjects(true));
        let binding = self.object(
            "rbac.authorization.k8s.io/v1",
            "ClusterRoleBinding",
            metadata,
            fields,
        );
        vec![role, binding]
    }

    /// Subjects: the ServiceAccount of the build (in various namespaces), a User, `default`.
    pub(super) fn subjects(&mut self, cluster: bool) -> Value {
        let mut runner = json!({"kind": "ServiceAccount", "name": "runner"});
        if cluster || self.rng.chance(60) {
            runner["namespace"] = json!(self.rng.pick(&["default", "other-ns"]));
        }
        let mut subjects = vec![runner];
        if self.rng.chance(40) {
            subjects.push(json!({
                "kind": "User",
                "name": "alice@example.com",
                "apiGroup": "rbac.authorization.k8s.io",
            }));
        }
        if self.rng.chance(30) {
            subjects.push(
                json!({"kind": "ServiceAccount", "name": "default", "namespace": "kube-system"}),
            );
        }
        Value::Array(subjects)
    }

    /// A custom resource: free-form spec, so the place for numbers, booleans and nulls in every
    /// YAML spelling; `containers` deep inside, which the images transformer finds.
    pub(super) fn widget(&mut self, name: &str, app: &str) -> Value {
        let metadata = self.metadata(name, app, true);
        let tags: Vec<Value> = (0..self.rng.range(1, 3))
            .map(|_| json!(line(&mut self.rng)))
            .collect();
        let mut spec = json!({
            "size": raw_token(&mut self.rng),
            "mode": text(&mut self.rng),
            "enabled": raw_token(&mut self.rng),
            "tags": tags,
            "nested": {"deep": {"value": text(&mut self.rng), "count": raw_token(&mut self.rng)}},
            "removable": text(&mut self.rng),
            "reserved": line(&mut self.rng),
            "image": "nginx:1.27",
            "nothing": null,
        });
        if self.rng.chance(40) {
            spec["template"] =
                json!({"spec": {"containers": [{"name": "w", "image": self.image()}]}});
        }
        if self.rng.chance(30) {
            spec["jobs"] =
                json!([{"name": "nightly", "containers": [{"name": "j", "image": self.image()}]}]);
        }
        let mut fields = Map::new();
        fields.insert("spec".into(), spec);
        self.object("example.com/v1", "Widget", metadata, fields)
    }

    // -----------------------------------------------------------------------------------------
    // Generators
    // -----------------------------------------------------------------------------------------
}
