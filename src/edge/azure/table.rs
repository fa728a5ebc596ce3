//! Azure as data: what bootstrap must know of it (`PROFILE`), the api-version pinned for each
//! resource type, the environment the service principal comes from, and the names of what a
//! machine or load balancer brings along.

use crate::bootstrap::model::Profile;

/// cloud-apis.md §5: a Standard load balancer serves any number of backends; Azure's
/// availability sets and zones are not used by a `small` site, so no placement groups; the
/// backends are set on each machine's NIC after the machines exist.
pub static PROFILE: Profile = Profile {
    provider: "azure",
    title: "Azure",
    token_variable: "AZURE_CLIENT_SECRET",
    token_hint: "create a service principal with the Contributor role on the subscription (`az ad sp create-for-rbac`) and set `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET` and `AZURE_SUBSCRIPTION_ID`, as the Azure CLI and Terraform take them",
    spread_group_size: 0,
    network_zone: false,
    load_balancer_sizes: &[(usize::MAX, "Standard")],
    static_backends: true,
};

/// Azure Resource Manager, the default base URL.
pub const DEFAULT_URL: &str = "https://management.azure.com";

/// The identity endpoint (Microsoft Entra ID), the default authority.
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";

/// The variable overriding the authority, the name Azure's own SDKs read.
pub const AUTHORITY_VARIABLE: &str = "AZURE_AUTHORITY_HOST";

/// The service principal's other variables, beside `PROFILE.token_variable` (its secret).
pub const TENANT_VARIABLE: &str = "AZURE_TENANT_ID";
pub const CLIENT_VARIABLE: &str = "AZURE_CLIENT_ID";
pub const SUBSCRIPTION_VARIABLE: &str = "AZURE_SUBSCRIPTION_ID";

/// The token's audience: Resource Manager (cloud-apis.md §5, client credentials).
pub(super) const SCOPE: &str = "https://management.azure.com/.default";

/// A resource type railyard manages, with the api-version its requests pin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Type {
    /// `Microsoft.Network/virtualNetworks`; empty for resource groups.
    pub(super) name: &'static str,
    pub(super) api_version: &'static str,
}

/// cloud-apis.md §5: Compute `2024-07-01` (confirmed in the specs), Network `2024-05-01`,
/// Resources `2021-04-01`. Every request's `api-version` comes from this table.
pub(super) const GROUPS: Type = Type {
    name: "",
    api_version: "2021-04-01",
};
/// The subscription's VM sizes per location, with their restrictions (Resource SKUs, whose
/// api-version is its own: learn.microsoft.com/rest/api/compute/resourceskus/list).
pub(super) const SKUS: Type = Type {
    name: "Microsoft.Compute/skus",
    api_version: "2021-07-01",
};
pub(super) const VMS: Type = compute("virtualMachines");
pub(super) const SSH_KEYS: Type = compute("sshPublicKeys");
pub(super) const DISKS: Type = compute("disks");
pub(super) const VNETS: Type = network("virtualNetworks");
pub(super) const NSGS: Type = network("networkSecurityGroups");
pub(super) const PUBLIC_IPS: Type = network("publicIPAddresses");
pub(super) const NAT_GATEWAYS: Type = network("natGateways");
pub(super) const NICS: Type = network("networkInterfaces");
pub(super) const LOAD_BALANCERS: Type = network("loadBalancers");

const fn compute(kind: &'static str) -> Type {
    Type {
        name: match kind.as_bytes() {
            b"virtualMachines" => "Microsoft.Compute/virtualMachines",
            b"sshPublicKeys" => "Microsoft.Compute/sshPublicKeys",
            _ => "Microsoft.Compute/disks",
        },
        api_version: "2024-07-01",
    }
}

const fn network(kind: &'static str) -> Type {
    Type {
        name: match kind.as_bytes() {
            b"virtualNetworks" => "Microsoft.Network/virtualNetworks",
            b"networkSecurityGroups" => "Microsoft.Network/networkSecurityGroups",
            b"publicIPAddresses" => "Microsoft.Network/publicIPAddresses",
            b"natGateways" => "Microsoft.Network/natGateways",
            b"networkInterfaces" => "Microsoft.Network/networkInterfaces",
            _ => "Microsoft.Network/loadBalancers",
        },
        api_version: "2024-05-01",
    }
}

/// Every type a site's resource group holds, in the order `destroy` deletes them.
pub(super) const DELETION_ORDER: [Type; 9] = [
    VMS,
    DISKS,
    NICS,
    LOAD_BALANCERS,
    NAT_GATEWAYS,
    PUBLIC_IPS,
    VNETS,
    NSGS,
    SSH_KEYS,
];

/// A worker's NIC (servers' are named in the `azure` block): the render's spelling.
pub(super) fn nic_name(machine: &str) -> String {
    format!("{machine}-nic")
}

/// A machine's OS disk, deleted with it.
pub(super) fn os_disk(machine: &str) -> String {
    format!("{machine}-os")
}

/// The VM's administrator: Azure refuses `root`; cloud-init (`disable_root: false`) gives
/// root the same keys, which is how bootstrap reaches the first server.
pub(super) const ADMIN_USER: &str = "railyard";

/// cloud-apis.md §5 Traps: `customData` is at most 87,380 base64 characters.
pub(super) const CUSTOM_DATA_LIMIT: usize = 87_380 / 4 * 3;

/// The NIC's one IP configuration and the load balancer's parts, railyard's names.
pub(super) const IP_CONFIG: &str = "ipconfig1";
pub(super) const FRONTEND: &str = "frontend";
pub(super) const BACKEND_POOL: &str = "nodes";
