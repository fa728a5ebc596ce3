#!/usr/bin/env bash
# `railyard overlay build DIR` against `kubectl kustomize DIR` (kustomize v5.5.0), side by side
# in one hyperfine run per input, whole process each, on two generated overlays:
#   small: a base of 30 objects (Deployments, Services, ConfigMaps, ServiceAccounts, Roles,
#          RoleBindings, Ingresses) in 5 files; the overlay sets namespace, namePrefix, labels
#          (includeSelectors), commonAnnotations, images, a configMapGenerator, and has 5
#          strategic-merge and 3 JSON 6902 patches.
#   large: a base of 1,000 objects (250 each of Deployment, Service, ConfigMap, ServiceAccount)
#          in 10 files; the overlay sets the same transforms with 3 patches and a generator.
# Both overlays also use a component (a label and a patch on every Service) and a replacement
# (a ConfigMap value into every Deployment).
# Both outputs are compared byte for byte before timing (exit 1 when they differ).
# Targets (issue 20): railyard >= 100x faster on small, >= 50x on large; a ratio below
# target is reported as BELOW but does not fail the script.
# Needs hyperfine and kubectl (on PATH or /usr/local/bin). Results in target/bench/overlay-small.json
# and target/bench/overlay-large.json.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/peak.sh
command -v hyperfine >/dev/null || { echo "hyperfine is missing (Debian package \`hyperfine\`)" >&2; exit 2; }
kubectl=$(command -v kubectl || true)
if [[ -z $kubectl && -x /usr/local/bin/kubectl ]]; then kubectl=/usr/local/bin/kubectl; fi
if [[ -z $kubectl ]]; then
  echo "kubectl is missing: install kubectl with kustomize v5.5 (see tests/run.sh)" >&2
  exit 1
fi
cargo build --release --quiet
bin=$(installed)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A Deployment named $1 running image $2, reading ConfigMap $3, as ServiceAccount $4.
deployment() {
  cat <<EOF
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $1
  labels:
    app: $1
spec:
  replicas: 1
  selector:
    matchLabels:
      app: $1
  template:
    metadata:
      labels:
        app: $1
    spec:
      serviceAccountName: $4
      containers:
        - name: main
          image: $2
          ports:
            - containerPort: 8080
              name: http
          envFrom:
            - configMapRef:
                name: $3
          resources:
            requests:
              cpu: 50m
              memory: 64Mi
EOF
}

# A Service named $1 selecting app $1.
service() {
  cat <<EOF
---
apiVersion: v1
kind: Service
metadata:
  name: $1
  labels:
    app: $1
spec:
  selector:
    app: $1
  ports:
    - name: http
      port: 80
      targetPort: http
EOF
}

# A ConfigMap named $1 with a few keys derived from $2.
configmap() {
  cat <<EOF
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: $1
data:
  LOG_LEVEL: info
  INSTANCE: "$2"
  ENDPOINT: http://$1.example.internal:8080/v1
EOF
}

serviceaccount() {
  printf -- '---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: %s\n' "$1"
}

# A component (kind: Component) both overlays use: a label and a strategic-merge patch on every
# Service.
component() {
  mkdir -p "$1"
  cat > "$1/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
labels:
  - pairs:
      component: metrics
patches:
  - target:
      kind: Service
    patch: |-
      apiVersion: v1
      kind: Service
      metadata:
        name: any
        annotations:
          prometheus.io/scrape: "true"
EOF
}

# The component and a replacement for an overlay: ConfigMap $1's LOG_LEVEL into every
# Deployment's pod annotations.
component_and_replacement() {
  cat <<EOF
components:
  - ../component
replacements:
  - source:
      kind: ConfigMap
      name: $1
      fieldPath: data.LOG_LEVEL
    targets:
      - select:
          kind: Deployment
        fieldPaths:
          - spec.template.metadata.annotations.log-level
        options:
          create: true
EOF
}

# --- small: 6 Deployments, 6 Services, 6 ConfigMaps, 4 ServiceAccounts, 3 Roles,
# 3 RoleBindings, 2 Ingresses = 30 objects.
small="$work/small"
mkdir -p "$small/base" "$small/overlay"
component "$small/component"
apps=(web api worker billing search auth)
for i in "${!apps[@]}"; do
  deployment "${apps[$i]}" "nginx:1.25.$i" "${apps[$i]}-config" "sa-$((i % 4))"
done > "$small/base/deployments.yaml"
for app in "${apps[@]}"; do service "$app"; done > "$small/base/services.yaml"
for i in "${!apps[@]}"; do configmap "${apps[$i]}-config" "$i"; done > "$small/base/configmaps.yaml"
{
  for i in 0 1 2 3; do serviceaccount "sa-$i"; done
  for i in 0 1 2; do
    cat <<EOF
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: role-$i
rules:
  - apiGroups: [""]
    resources: [configmaps, services]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: binding-$i
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: role-$i
subjects:
  - kind: ServiceAccount
    name: sa-$i
EOF
  done
} > "$small/base/rbac.yaml"
for i in 0 1; do
  cat <<EOF
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ingress-$i
spec:
  ingressClassName: nginx
  rules:
    - host: app-$i.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: ${apps[$i]}
                port:
                  name: http
          - path: /api
            pathType: Prefix
            backend:
              service:
                name: api
                port:
                  number: 80
EOF
done > "$small/base/ingress.yaml"
cat > "$small/base/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployments.yaml
  - services.yaml
  - configmaps.yaml
  - rbac.yaml
  - ingress.yaml
EOF
{
  cat <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../base
namespace: bench-prod
namePrefix: prod-
labels:
  - pairs:
      env: prod
      team: platform
    includeSelectors: true
commonAnnotations:
  owner: platform-team
  railyard.dev/bench: small
images:
  - name: nginx
    newTag: 1.27.2
configMapGenerator:
  - name: overlay-settings
    literals:
      - FEATURE_FLAGS=alpha,beta
      - REGION=eu-central
      - REPLICAS=3
patches:
EOF
  for i in 0 1 2 3 4; do
    cat <<EOF
  - patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: ${apps[$i]}
      spec:
        replicas: $((i + 2))
        template:
          spec:
            containers:
              - name: main
                envFrom:
                  - configMapRef:
                      name: ${apps[$i]}-config
                  - configMapRef:
                      name: overlay-settings
                resources:
                  limits:
                    cpu: 500m
                    memory: $((128 * (i + 1)))Mi
EOF
  done
  cat <<EOF
  - target:
      kind: Deployment
      name: auth
    patch: |-
      - op: replace
        path: /spec/replicas
        value: 4
      - op: add
        path: /spec/template/spec/containers/0/env
        value:
          - name: MODE
            value: strict
  - target:
      kind: Service
      name: web
    patch: |-
      - op: add
        path: /spec/ports/-
        value:
          name: metrics
          port: 9090
          targetPort: 9090
  - target:
      kind: ConfigMap
      name: api-config
    patch: |-
      - op: replace
        path: /data/LOG_LEVEL
        value: debug
      - op: add
        path: /data/TRACING
        value: "on"
EOF
  component_and_replacement api-config
} > "$small/overlay/kustomization.yaml"

# --- large: 10 files of 25 Deployments, Services, ConfigMaps and ServiceAccounts each = 1,000.
large="$work/large"
mkdir -p "$large/base" "$large/overlay"
component "$large/component"
printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n' > "$large/base/kustomization.yaml"
for f in $(seq -w 0 9); do
  for j in $(seq -w 0 24); do
    n="svc-$f$j"
    deployment "$n" "registry.example.com/team/app-$((10#$j % 5)):1.0.$((10#$f))" "$n-config" "$n"
    service "$n"
    configmap "$n-config" "$f$j"
    serviceaccount "$n"
  done > "$large/base/part-$f.yaml"
  printf '  - part-%s.yaml\n' "$f" >> "$large/base/kustomization.yaml"
done
cat > "$large/overlay/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../base
namespace: bench-large
namePrefix: prod-
labels:
  - pairs:
      env: prod
    includeSelectors: true
commonAnnotations:
  owner: platform-team
  railyard.dev/bench: large
images:
  - name: registry.example.com/team/app-0
    newTag: 2.0.0
  - name: registry.example.com/team/app-3
    newName: mirror.example.com/team/app-3
configMapGenerator:
  - name: overlay-settings
    literals:
      - REGION=eu-central
      - TIER=gold
patches:
  - patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: svc-000
      spec:
        replicas: 5
        template:
          spec:
            containers:
              - name: main
                envFrom:
                  - configMapRef:
                      name: svc-000-config
                  - configMapRef:
                      name: overlay-settings
  - patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: svc-924
      spec:
        template:
          spec:
            containers:
              - name: main
                resources:
                  limits:
                    memory: 1Gi
  - target:
      kind: Service
      name: svc-512
    patch: |-
      - op: replace
        path: /spec/ports/0/port
        value: 8080
EOF
component_and_replacement svc-000-config >> "$large/overlay/kustomization.yaml"

# Same bytes from both before anything is timed.
for input in small large; do
  dir="$work/$input/overlay"
  "$bin" overlay build "$dir" --root "$work" > "$work/$input.railyard.yaml"
  "$kubectl" kustomize "$dir" > "$work/$input.kubectl.yaml"
  if ! cmp -s "$work/$input.railyard.yaml" "$work/$input.kubectl.yaml"; then
    echo "$input: railyard overlay build and kubectl kustomize differ:" >&2
    diff -u "$work/$input.kubectl.yaml" "$work/$input.railyard.yaml" | head -40 >&2 || true
    exit 1
  fi
  echo "$input: outputs identical ($(grep -c '^kind: ' "$work/$input.kubectl.yaml") objects, $(wc -c < "$work/$input.kubectl.yaml") bytes)"
done

mkdir -p target/bench
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $("$kubectl" version --client 2>/dev/null | tr '\n' ' ')"
hyperfine --warmup 3 --runs 20 --shell=none --export-json target/bench/overlay-small.json \
  -n "railyard overlay build (small)" "$bin overlay build $small/overlay --root $work" \
  -n "kubectl kustomize (small)" "$kubectl kustomize $small/overlay"
hyperfine --warmup 3 --runs 10 --shell=none --export-json target/bench/overlay-large.json \
  -n "railyard overlay build (large)" "$bin overlay build $large/overlay --root $work" \
  -n "kubectl kustomize (large)" "$kubectl kustomize $large/overlay"
python3 - <<'PY'
import json
for size, target in (("small", 100), ("large", 50)):
    results = {r["command"]: r["median"] for r in json.load(open(f"target/bench/overlay-{size}.json"))["results"]}
    ours, theirs = results[f"railyard overlay build ({size})"], results[f"kubectl kustomize ({size})"]
    ratio = theirs / ours
    verdict = "PASS" if ratio >= target else "BELOW"
    print(f"{size}: railyard {ours * 1000:.1f} ms, kubectl {theirs * 1000:.1f} ms (medians): "
          f"{ratio:.1f}x (target >= {target}x: {verdict})")
PY
for input in small large; do
  peak "railyard overlay build ($input)" "$bin" overlay build "$work/$input/overlay" --root "$work"
  peak "kubectl kustomize ($input)" "$kubectl" kustomize "$work/$input/overlay"
done
