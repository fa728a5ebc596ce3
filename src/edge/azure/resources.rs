//! The neutral `Cloud` operations on Azure: the site's resource group (made once, tagged as
//! railyard's), what each kind brings along (the network its NAT gateway and address, a
//! machine its public IP, NIC and OS disk, the load balancer its address), the facts read back,
//! and deletion in dependency order, ending with the group when railyard made it and it is empty.

use reqwest::Method;
use serde_json::{Value as Json, json};

use super::table::{self, Type};
use super::wire;
use super::{AzureClient, AzureError};
use crate::bootstrap::availability::Offer;
use crate::bootstrap::model::{
    Existing, Facts, FollowUp, Kind, Labels, Profile, ResourceId, Spec, Wanted,
};
use crate::core::{labels, layout};
use crate::edge::cloud::{Cloud, CloudError, Created, Refs};

impl From<AzureError> for CloudError {
    fn from(e: AzureError) -> CloudError {
        CloudError::Api(Box::new(e))
    }
}

/// Each kind bootstrap plans with and the Azure type that is it (none for placement groups:
/// the profile wants none on Azure); what a kind brings along has no kind.
const KINDS: [(Kind, Type); 5] = [
    (Kind::SshKey, table::SSH_KEYS),
    (Kind::Network, table::VNETS),
    (Kind::Firewall, table::NSGS),
    (Kind::LoadBalancer, table::LOAD_BALANCERS),
    (Kind::Machine, table::VMS),
];

fn kind_of(name: &str) -> Option<(Kind, Type)> {
    KINDS
        .into_iter()
        .find(|(_, t)| t.name.eq_ignore_ascii_case(name))
}

fn type_of(kind: Kind) -> Result<Type, CloudError> {
    KINDS
        .into_iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, t)| t)
        .ok_or(CloudError::Unresolved {
            kind: kind.noun(),
            name: "an Azure resource".to_owned(),
        })
}

/// The last segment of an ARM id: the resource's name.
fn name_of(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

impl AzureClient {
    pub(super) fn site(&self) -> &str {
        &self.site
    }

    /// The site's resource group: found as it is, or made with the site's tags and the mark
    /// that railyard made it. A group the user made is never re-tagged.
    async fn ensure_group(&self) -> Result<(), AzureError> {
        self.group_ready
            .get_or_try_init(|| async {
                let path = self.group_path();
                if self.find(&path, table::GROUPS.api_version).await?.is_none() {
                    let tags = labels::azure_group_tags(self.site());
                    let body = json!({"location": self.location, "tags": tags});
                    self.put(table::GROUPS, &path, &body).await?;
                }
                Ok(())
            })
            .await
            .map(|_| ())
    }

    /// A machine's NIC: its name, static address and public IP's name (servers' from the
    /// `azure` block; workers' by the render's spelling, dynamic and private only).
    fn nic_of(&self, machine: &str) -> (String, Option<String>, Option<String>) {
        match self.block.nics.iter().find(|n| n.machine == machine) {
            Some(n) => (
                n.name.clone(),
                (n.private_ip_allocation == "Static").then(|| n.private_ip.clone()),
                n.public_ip.clone(),
            ),
            None => (table::nic_name(machine), None, None),
        }
    }

    fn subnet_id(&self) -> String {
        format!(
            "{}/subnets/{}",
            self.path(table::VNETS, &layout::cloud::network(self.site())),
            self.block.subnet.name
        )
    }

    fn nsg_path(&self) -> String {
        self.path(table::NSGS, &self.block.subnet.network_security_group)
    }

    fn pool_id(&self, balancer: &str) -> String {
        format!(
            "{}/backendAddressPools/{}",
            self.path(table::LOAD_BALANCERS, balancer),
            table::BACKEND_POOL
        )
    }

    /// PUTs the virtual network, naming the NSG when it exists (`associate` adds it later
    /// otherwise); serialised with the firewall's writes of it.
    async fn put_network(&self, tags: &Labels, with_nsg: Option<bool>) -> Result<Json, AzureError> {
        let _held = self.network_lock.lock().await;
        let nsg_path = self.nsg_path();
        let nsg = match with_nsg {
            Some(with) => with,
            None => self
                .find(&nsg_path, table::NSGS.api_version)
                .await?
                .is_some(),
        };
        let nat = self.path(table::NAT_GATEWAYS, &self.block.nat_gateway.name);
        let body = wire::vnet(&wire::Vnet {
            location: &self.location,
            tags,
            cidr: &self.network.cidr,
            subnet_name: &self.block.subnet.name,
            subnet: &self.network.subnet,
            nat: &nat,
            nsg: nsg.then_some(nsg_path.as_str()),
        });
        let path = self.path(table::VNETS, &layout::cloud::network(self.site()));
        self.put(table::VNETS, &path, &body).await
    }

    /// The NSG on the subnet, when the network exists and does not name it yet.
    async fn associate(&self) -> Result<(), AzureError> {
        let path = self.path(table::VNETS, &layout::cloud::network(self.site()));
        let found = {
            let _held = self.network_lock.lock().await;
            self.find(&path, table::VNETS.api_version).await?
        };
        let Some(vnet) = found else { return Ok(()) };
        let named = wire::subnet_nsg(&vnet).map(|id| id.to_ascii_lowercase());
        if named.as_deref() != Some(self.nsg_path().to_ascii_lowercase().as_str()) {
            self.put_network(&wire::tags(&vnet), Some(true)).await?;
        }
        Ok(())
    }

    async fn put_firewall(&self, tags: &Labels, spec: &Spec) -> Result<Json, AzureError> {
        let Spec::Firewall { rules, .. } = spec else {
            return Err(AzureError::NoBlock);
        };
        let body = wire::nsg(&self.location, tags, rules);
        let nsg = self.put(table::NSGS, &self.nsg_path(), &body).await?;
        self.associate().await?;
        Ok(nsg)
    }

    async fn put_ip(&self, name: &str, tags: &Labels) -> Result<String, AzureError> {
        let path = self.path(table::PUBLIC_IPS, name);
        self.put(
            table::PUBLIC_IPS,
            &path,
            &wire::public_ip(&self.location, tags),
        )
        .await?;
        Ok(path)
    }

    /// A machine: its public IP (the block's servers), NIC, then the VM with its user-data.
    /// A VM already there is adopted and never sent again (`customData` cannot change).
    async fn put_machine(
        &self,
        wanted: &Wanted,
        tags: &Labels,
        user_data: Option<String>,
    ) -> Result<Created, AzureError> {
        let Spec::Machine(machine) = &wanted.spec else {
            return Err(AzureError::NoBlock);
        };
        let path = self.path(table::VMS, &wanted.name);
        if let Some(found) = self.find(&path, table::VMS.api_version).await? {
            return Ok(Created {
                resource: self.existing(Kind::Machine, &found).await?,
                adopted: true,
            });
        }
        let data = user_data.unwrap_or_default();
        if data.len() > table::CUSTOM_DATA_LIMIT {
            return Err(AzureError::UserDataSize {
                name: wanted.name.clone(),
                size: data.len(),
                limit: table::CUSTOM_DATA_LIMIT,
            });
        }
        let (nic_name, static_ip, public) = self.nic_of(&wanted.name);
        let public_ip = match &public {
            Some(name) => Some(self.put_ip(name, tags).await?),
            None => None,
        };
        let nic_path = self.path(table::NICS, &nic_name);
        if self
            .find(&nic_path, table::NICS.api_version)
            .await?
            .is_none()
        {
            let subnet = self.subnet_id();
            let body = wire::nic(&wire::Nic {
                location: &self.location,
                tags,
                subnet: &subnet,
                static_ip: static_ip.as_deref(),
                public_ip: public_ip.as_deref(),
                pools: &[],
            });
            self.put(table::NICS, &nic_path, &body).await?;
        }
        let mut vm_tags = tags.clone();
        if let Some(digest) = self.user_data.get(&wanted.name) {
            vm_tags.insert(labels::AZURE_USER_DATA_TAG.to_owned(), digest.clone());
        }
        let body = wire::vm(&wire::Vm {
            location: &self.location,
            tags: &vm_tags,
            name: &wanted.name,
            size: &machine.machine_type,
            image: &machine.image,
            nic: &nic_path,
            ssh_keys: &self.ssh_keys,
            custom_data: &data,
        });
        let vm = self.put(table::VMS, &path, &body).await?;
        Ok(Created {
            resource: self.existing(Kind::Machine, &vm).await?,
            adopted: false,
        })
    }

    async fn put_balancer(&self, wanted: &Wanted, tags: &Labels) -> Result<Json, AzureError> {
        let Spec::LoadBalancer(lb) = &wanted.spec else {
            return Err(AzureError::NoBlock);
        };
        let block = &self.block.ingress_load_balancer;
        let ip = self.put_ip(&block.public_ip, tags).await?;
        let path = self.path(table::LOAD_BALANCERS, &wanted.name);
        let body = wire::load_balancer(&self.location, tags, &path, block, &ip, &lb.ports);
        self.put(table::LOAD_BALANCERS, &path, &body).await
    }

    /// The NICs of the site's machines: name, role, and (address, pools).
    async fn nics(&self) -> Result<Vec<(String, String, Vec<String>)>, AzureError> {
        let list = format!("{}/providers/{}", self.group_path(), table::NICS.name);
        let nics = self.list(&list, table::NICS.api_version).await?;
        Ok(nics
            .iter()
            .filter_map(|nic| {
                let tags = labels::azure_labels(&wire::tags(nic));
                (tags.get(labels::SITE).map(String::as_str) == Some(self.site())).then(|| {
                    let role = tags.get(labels::ROLE).cloned().unwrap_or_default();
                    let name = nic["name"].as_str().unwrap_or_default().to_owned();
                    (name, role, wire::nic_facts(nic).1)
                })
            })
            .collect())
    }

    /// Makes every NIC of `role` a backend of the load balancer's pool.
    async fn add_backends(&self, balancer: &str, role: &str) -> Result<(), AzureError> {
        let pool = self.pool_id(balancer);
        let lower = pool.to_ascii_lowercase();
        let missing: Vec<String> = self
            .nics()
            .await?
            .into_iter()
            .filter(|(_, nic_role, pools)| nic_role == role && !pools.contains(&lower))
            .map(|(name, _, _)| name)
            .collect();
        // Each NIC is its own resource: they join the pool side by side.
        let joins = missing
            .into_iter()
            .map(|name| self.join_pool(name, role, &pool));
        futures::future::try_join_all(joins).await?;
        Ok(())
    }

    /// The NIC `name` of a machine of `role`, as its machine's create made it, in `pool`.
    async fn join_pool(&self, name: String, role: &str, pool: &str) -> Result<(), AzureError> {
        let machine = self.block.nics.iter().find(|n| n.name == name).map_or_else(
            || name.trim_end_matches("-nic").to_owned(),
            |n| n.machine.clone(),
        );
        let (_, static_ip, public) = self.nic_of(&machine);
        let public_ip = public.map(|p| self.path(table::PUBLIC_IPS, &p));
        let tags = labels::azure_tags(&labels::resource(self.site(), role));
        let pools = [pool.to_owned()];
        let body = wire::nic(&wire::Nic {
            location: &self.location,
            tags: &tags,
            subnet: &self.subnet_id(),
            static_ip: static_ip.as_deref(),
            public_ip: public_ip.as_deref(),
            pools: &pools,
        });
        self.put(table::NICS, &self.path(table::NICS, &name), &body)
            .await?;
        Ok(())
    }

    async fn address(&self, ip: &str) -> Result<Option<String>, AzureError> {
        let path = self.path(table::PUBLIC_IPS, ip);
        let found = self.find(&path, table::PUBLIC_IPS.api_version).await?;
        Ok(found.and_then(|j| j["properties"]["ipAddress"].as_str().map(str::to_owned)))
    }

    /// A resource as the neutral model sees it, with its facts.
    async fn existing(&self, kind: Kind, json: &Json) -> Result<Existing, AzureError> {
        let name = json["name"].as_str().unwrap_or_default().to_owned();
        let mut facts = Facts {
            on_network: true,
            ..Facts::default()
        };
        match kind {
            Kind::Machine => {
                facts.machine_type = json["properties"]["hardwareProfile"]["vmSize"]
                    .as_str()
                    .map(str::to_owned);
                facts.user_data = wire::tags(json).get(labels::AZURE_USER_DATA_TAG).cloned();
                let (nic, _, public) = self.nic_of(&name);
                let nic = self
                    .find(&self.path(table::NICS, &nic), table::NICS.api_version)
                    .await?;
                facts.private_ipv4 = nic.and_then(|n| wire::nic_facts(&n).0);
                if let Some(ip) = public {
                    facts.public_ipv4 = self.address(&ip).await?;
                }
            }
            Kind::LoadBalancer => {
                facts.size = json["sku"]["name"].as_str().map(str::to_owned);
                facts.public_ipv4 = self
                    .address(&self.block.ingress_load_balancer.public_ip)
                    .await?;
                let pool = self.pool_id(&name).to_ascii_lowercase();
                let nics = self.nics().await?;
                for role in [labels::SERVER_NODE, labels::WORKER_ROLE] {
                    let mine: Vec<_> = nics.iter().filter(|n| n.1 == role).collect();
                    if !mine.is_empty() && mine.iter().all(|n| n.2.contains(&pool)) {
                        facts.targets.push(labels::role_selector(self.site(), role));
                    }
                }
            }
            Kind::Firewall => {
                // Rules on no subnet filter nothing: reported as none, so the plan applies them.
                let vnet_path = self.path(table::VNETS, &layout::cloud::network(self.site()));
                let vnet = self.find(&vnet_path, table::VNETS.api_version).await?;
                let applied = vnet.and_then(|v| wire::subnet_nsg(&v)).is_some_and(|id| {
                    id.eq_ignore_ascii_case(json["id"].as_str().unwrap_or_default())
                });
                if applied {
                    facts.firewall_rules = wire::rules_of(json);
                }
            }
            Kind::Network => facts.ranges = wire::ranges(json),
            Kind::SshKey | Kind::PlacementGroup => {}
        }
        Ok(Existing {
            kind,
            id: ResourceId(json["id"].as_str().unwrap_or_default().to_owned()),
            name,
            labels: labels::azure_labels(&wire::tags(json)),
            facts,
        })
    }
}

impl Cloud for AzureClient {
    fn profile(&self) -> &'static Profile {
        &table::PROFILE
    }

    async fn inventory(&self, site: &str) -> Result<Vec<Existing>, CloudError> {
        let everything = format!("{}/resources", self.group_path());
        let listed = self.list(&everything, table::GROUPS.api_version).await?;
        let ours = listed.iter().filter_map(|item| {
            let site_tag = labels::azure_labels(&wire::tags(item));
            let (kind, t) = item["type"].as_str().and_then(kind_of)?;
            (site_tag.get(labels::SITE).map(String::as_str) == Some(site))
                .then(|| (kind, t, item["id"].as_str().unwrap_or_default().to_owned()))
        });
        // Read side by side: each resource's facts take a request or three.
        let reads = ours.map(|(kind, t, id)| async move {
            let full = self
                .call(Method::GET, &id, Some(t.api_version), None)
                .await?;
            self.existing(kind, &full.json).await
        });
        Ok(futures::future::try_join_all(reads).await?)
    }

    /// The VM sizes the subscription may order in the site's location: a size with a
    /// `Location` restriction naming it (`NotAvailableForSubscription`, a quota) is not.
    async fn offers(&self) -> Result<Vec<Offer>, CloudError> {
        let path = format!(
            "/subscriptions/{}/providers/{}?{}",
            self.principal.subscription,
            table::SKUS.name,
            super::location_filter(&self.location)
        );
        let skus = self.list(&path, table::SKUS.api_version).await?;
        Ok(wire::offers(&skus, &self.location))
    }

    async fn get(&self, kind: Kind, id: &ResourceId) -> Result<Existing, CloudError> {
        let t = type_of(kind)?;
        let json = self
            .call(Method::GET, &id.0, Some(t.api_version), None)
            .await?;
        Ok(self.existing(kind, &json.json).await?)
    }

    async fn create(
        &self,
        _site: &str,
        wanted: &Wanted,
        _refs: &Refs,
        user_data: Option<String>,
    ) -> Result<Created, CloudError> {
        self.ensure_group().await?;
        let tags = labels::azure_tags(&wanted.labels);
        let json = match &wanted.spec {
            Spec::SshKey { public_key } => {
                let body = json!({"location": self.location, "tags": tags, "properties": {"publicKey": public_key}});
                self.put(
                    table::SSH_KEYS,
                    &self.path(table::SSH_KEYS, &wanted.name),
                    &body,
                )
                .await?
            }
            Spec::Network { .. } => {
                let ip = self
                    .put_ip(&self.block.nat_gateway.public_ip, &tags)
                    .await?;
                let nat = self.path(table::NAT_GATEWAYS, &self.block.nat_gateway.name);
                self.put(
                    table::NAT_GATEWAYS,
                    &nat,
                    &wire::nat_gateway(&self.location, &tags, &ip),
                )
                .await?;
                self.put_network(&tags, None).await?
            }
            Spec::Firewall { .. } => self.put_firewall(&tags, &wanted.spec).await?,
            Spec::LoadBalancer(_) => self.put_balancer(wanted, &tags).await?,
            Spec::Machine(_) => return Ok(self.put_machine(wanted, &tags, user_data).await?),
            Spec::PlacementGroup => {
                return Err(CloudError::Unresolved {
                    kind: "placement group",
                    name: wanted.name.clone(),
                });
            }
        };
        Ok(Created {
            resource: self.existing(wanted.kind(), &json).await?,
            adopted: false,
        })
    }

    async fn converge(&self, kind: Kind, id: &ResourceId, spec: &Spec) -> Result<(), CloudError> {
        if kind == Kind::Firewall {
            let found = self
                .call(Method::GET, &id.0, Some(table::NSGS.api_version), None)
                .await?;
            self.put_firewall(&wire::tags(&found.json), spec).await?;
        }
        Ok(())
    }

    async fn follow_up(
        &self,
        kind: Kind,
        id: &ResourceId,
        step: &FollowUp,
        _refs: &Refs,
    ) -> Result<(), CloudError> {
        // A NIC joins the subnet at its create and a VM starts at its create: only a load
        // balancer's backends are work after the create, set on each machine's NIC.
        if let (Kind::LoadBalancer, FollowUp::AddTarget { selector }) = (kind, step) {
            let role = selector
                .split(',')
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| *k == labels::ROLE)
                .map(|(_, v)| v.to_owned())
                .unwrap_or_default();
            self.add_backends(name_of(&id.0), &role).await?;
        }
        Ok(())
    }

    async fn delete(&self, kind: Kind, id: &ResourceId) -> Result<(), CloudError> {
        let name = name_of(&id.0).to_owned();
        match kind {
            Kind::Machine => {
                self.remove(table::VMS, &id.0).await?;
                self.remove(
                    table::DISKS,
                    &self.path(table::DISKS, &table::os_disk(&name)),
                )
                .await?;
                let (nic, _, public) = self.nic_of(&name);
                self.remove(table::NICS, &self.path(table::NICS, &nic))
                    .await?;
                if let Some(ip) = public {
                    self.remove(table::PUBLIC_IPS, &self.path(table::PUBLIC_IPS, &ip))
                        .await?;
                }
            }
            Kind::LoadBalancer => {
                self.clear(&[table::VMS, table::DISKS, table::NICS]).await?;
                self.remove(table::LOAD_BALANCERS, &id.0).await?;
                if name == self.block.ingress_load_balancer.name {
                    let ip = &self.block.ingress_load_balancer.public_ip;
                    self.remove(table::PUBLIC_IPS, &self.path(table::PUBLIC_IPS, ip))
                        .await?;
                }
            }
            Kind::Firewall => {
                // Released from the subnet first: Azure refuses to delete an NSG in use.
                let vnet_path = self.path(table::VNETS, &layout::cloud::network(self.site()));
                if let Some(vnet) = self.find(&vnet_path, table::VNETS.api_version).await? {
                    if wire::subnet_nsg(&vnet).is_some() {
                        self.put_network(&wire::tags(&vnet), Some(false)).await?;
                    }
                }
                self.remove(table::NSGS, &id.0).await?;
            }
            Kind::Network => {
                let users = [table::VMS, table::DISKS, table::NICS, table::LOAD_BALANCERS];
                self.clear(&users).await?;
                self.remove(table::VNETS, &id.0).await?;
                let nat = self.path(table::NAT_GATEWAYS, &self.block.nat_gateway.name);
                self.remove(table::NAT_GATEWAYS, &nat).await?;
                let ip = self.path(table::PUBLIC_IPS, &self.block.nat_gateway.public_ip);
                self.remove(table::PUBLIC_IPS, &ip).await?;
            }
            Kind::SshKey => self.delete_last(&id.0).await?,
            Kind::PlacementGroup => {}
        }
        Ok(())
    }
}
