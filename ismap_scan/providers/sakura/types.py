"""Sakura Cloud resource types as data: which endpoint lists them, where, and what is secret in them.

The generic collector (``provider.py``) walks these declarations; field names in ``data`` are the API's
own (``../shared/SAKURA-API.md`` §3, iaas-api-go ``naked/*.go``), normalised by :mod:`.parse` and extended
under ``data._derived`` by the derivers named here. The table in ``docs/architecture.md`` ("Sakura Cloud
resource types") is generated from the same facts.

Scopes: ``global`` resources are the same whatever zone is in the URL (the SDK reads them through
``is1a``), ``zone`` ones are listed in every scanned zone (``GET /zone`` discovers them).
Importing this module imports nothing outside the standard library.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

PROVIDER = "sakura"


@dataclass(frozen=True)
class SubRead:
    """A per-item read ``GET {path}/{ID}/{suffix}`` whose ``envelope`` value fills ``data[field]``.

    ``not_found_is_none``: a 404 means "nothing configured" (a ProxyLB without an uploaded certificate), so
    the field is ``None`` rather than an error.
    """

    suffix: str
    field: str
    envelope: str
    not_found_is_none: bool = True


@dataclass(frozen=True)
class ResourceType:
    """One Sakura resource type.

    - ``api``: ``iaas`` (``cloud/1.1`` classic list envelopes), ``iam`` (``{items, count, next}``),
      ``objectstorage`` (``{data}``) or ``scope`` (the account and zone records the provider builds).
    - ``path`` / ``envelope`` / ``filter``: the list call (``appliance`` + ``{"Class": "database"}``,
      ``commonserviceitem`` + ``{"Provider.Class": "proxylb"}``) and its plural key.
    - ``short``: the middle of the record ID ``{zone|global}/{short}/{ID}``.
    - ``details``: per-item reads; ``redact``: data paths always redacted (secrets the API returns);
      ``derive``: a deriver in :mod:`.parse` filling ``data._derived``.
    """

    name: str
    api: Literal["iaas", "iam", "objectstorage", "scope"]
    scope: Literal["global", "zone"]
    path: str
    envelope: str
    short: str
    doc: str
    filter: Mapping[str, object] = field(default_factory=dict)
    details: tuple[SubRead, ...] = ()
    redact: tuple[str, ...] = ()
    derive: str | None = None

    @property
    def call(self) -> str:
        """The listing as recorded in ``CollectionError.call``: ``cloud:GET appliance[Class=database]``."""
        cond = ",".join(f"{k}={v}" for k, v in self.filter.items() if not isinstance(v, list))
        return f"{self.api}:GET {self.path}" + (f"[{cond}]" if cond else "")


ACCOUNT = ResourceType(
    "sakura.account",
    "scope",
    "global",
    "auth-status",
    "",
    "account",
    "GET /auth-status (unwrapped) as AuthStatus; IAM organization-auth-conditions as AuthConditions and "
    "organization-password-policy as PasswordPolicy",
)
ZONE = ResourceType(
    "sakura.zone",
    "scope",
    "zone",
    "zone",
    "Zones",
    "zone",
    "a Zones item of GET /zone; _derived.ResourceCount = zonal records collected there",
)

SERVER = ResourceType(
    "sakura.server",
    "iaas",
    "zone",
    "server",
    "Servers",
    "server",
    "Servers item: Interfaces[] (Switch.Scope, Switch.Subnet, PacketFilter), Instance, Disks, Tags",
    derive="server",
)
DISK = ResourceType(
    "sakura.disk",
    "iaas",
    "zone",
    "disk",
    "Disks",
    "disk",
    "Disks item: EncryptionAlgorithm, EncryptionKey.KMSKeyID, Server, Availability, Tags",
    derive="disk",
)
SWITCH = ResourceType(
    "sakura.switch", "iaas", "zone", "switch", "Switches", "switch", "Switches item: Scope, Subnets, Internet"
)
INTERNET = ResourceType(
    "sakura.internet",
    "iaas",
    "zone",
    "internet",
    "Internet",  # sic: the list envelope is not pluralised
    "internet",
    "Internet item (router+switch): BandWidthMbps, Switch.Subnets, Switch.IPv6Nets",
    derive="internet",
)
PACKET_FILTER = ResourceType(
    "sakura.packetfilter",
    "iaas",
    "zone",
    "packetfilter",
    "PacketFilters",
    "packetfilter",
    "PacketFilters item: Expression[] {Protocol, SourceNetwork, SourcePort, DestinationPort, Action}",
    derive="packetfilter",
)
DATABASE = ResourceType(
    "sakura.database",
    "iaas",
    "zone",
    "appliance",
    "Appliances",
    "database",
    "Appliances item, Class database: Settings.DBConf.{Common, Backup, Backupv2, Replication}, Disk, Interfaces",
    filter={"Class": "database"},
    redact=(
        "Settings.DBConf.Common.UserPassword",
        "Settings.DBConf.Common.ReplicaPassword",
        "Settings.DBConf.Replication.Password",
    ),
    derive="database",
)
VPC_ROUTER = ResourceType(
    "sakura.vpcrouter",
    "iaas",
    "zone",
    "appliance",
    "Appliances",
    "vpcrouter",
    "Appliances item, Class vpcrouter: Settings.Router.{InternetConnection, Firewall, PortForwarding, "
    "PPTPServer, L2TPIPsecServer, SiteToSiteIPsecVPN, RemoteAccessUsers, SyslogHost, MonitoringSuite}",
    filter={"Class": "vpcrouter"},
    redact=(
        "Settings.Router.RemoteAccessUsers.Config[*].Password",
        "Settings.Router.L2TPIPsecServer.Config.PreSharedSecret",
        "Settings.Router.SiteToSiteIPsecVPN.Config[*].PreSharedSecret",
        "Settings.Router.WireGuard.Config.Peers[*].PresharedKey",
    ),
    derive="vpcrouter",
)
LOAD_BALANCER = ResourceType(
    "sakura.loadbalancer",
    "iaas",
    "zone",
    "appliance",
    "Appliances",
    "loadbalancer",
    "Appliances item, Class loadbalancer: Settings.LoadBalancer[] {VirtualIPAddress, Port, Servers}",
    filter={"Class": "loadbalancer"},
)
NFS = ResourceType(
    "sakura.nfs",
    "iaas",
    "zone",
    "appliance",
    "Appliances",
    "nfs",
    "Appliances item, Class nfs: Plan, Interfaces, Remark",
    filter={"Class": "nfs"},
)
ARCHIVE = ResourceType(
    "sakura.archive",
    "iaas",
    "zone",
    "archive",
    "Archives",
    "archive",
    "Archives item of the account's own archives (Filter Scope user): Availability, SizeMB, Tags",
    filter={"Scope": ["user"]},
)
AUTO_BACKUP = ResourceType(
    "sakura.autobackup",
    "iaas",
    "zone",  # a commonserviceitem, but zonal (SAKURA-API §1.1)
    "commonserviceitem",
    "CommonServiceItems",
    "autobackup",
    "CommonServiceItems item, Provider.Class autobackup: Status.{DiskID, ZoneName}, Settings.Autobackup",
    filter={"Provider.Class": "autobackup"},
)
PROXY_LB = ResourceType(
    "sakura.proxylb",
    "iaas",
    "global",
    "commonserviceitem",
    "CommonServiceItems",
    "proxylb",
    "CommonServiceItems item, Provider.Class proxylb (enhanced LB): Settings.ProxyLB.{BindPorts, "
    "LetsEncrypt, Syslog, MonitoringSuiteLog}, Status; + Certificates (GET …/proxylb/sslcertificate)",
    filter={"Provider.Class": "proxylb"},
    details=(SubRead("proxylb/sslcertificate", "Certificates", "ProxyLB"),),
    redact=("Certificates.PrimaryCert.PrivateKey", "Certificates.AdditionalCerts[*].PrivateKey"),
    derive="proxylb",
)
SIMPLE_MONITOR = ResourceType(
    "sakura.simplemonitor",
    "iaas",
    "global",
    "commonserviceitem",
    "CommonServiceItems",
    "simplemonitor",
    "CommonServiceItems item, Provider.Class simplemon: Status.Target, Settings.SimpleMonitor",
    filter={"Provider.Class": "simplemon"},
    redact=("Settings.SimpleMonitor.HealthCheck.BasicAuthPassword",),
)
SSH_KEY = ResourceType(
    "sakura.sshkey",
    "iaas",
    "global",
    "sshkey",
    "SSHKeys",
    "sshkey",
    "SSHKeys item: Name, PublicKey, Fingerprint (PrivateKey only exists at generation)",
    redact=("PrivateKey",),
    derive="sshkey",
)
IAM_USER = ResourceType(
    "sakura.iam.user",
    "iam",
    "global",
    "compat/users",
    "items",
    "iam-user",
    "IAM API compat/users item: name, status, otp.status, is_security_key_registered, is_passwordless",
)
BUCKET = ResourceType(
    "sakura.objectstorage.bucket",
    "objectstorage",
    "global",
    "v2/buckets",
    "data",
    "bucket",
    "object-storage bucket of a site (fed/v1/clusters): name, Site, Encryption (…/buckets/{name}/encryption "
    "data, or null when not configured)",
)

RESOURCE_TYPES: tuple[ResourceType, ...] = (
    ACCOUNT,
    ZONE,
    SERVER,
    DISK,
    SWITCH,
    INTERNET,
    PACKET_FILTER,
    DATABASE,
    VPC_ROUTER,
    LOAD_BALANCER,
    NFS,
    ARCHIVE,
    AUTO_BACKUP,
    PROXY_LB,
    SIMPLE_MONITOR,
    SSH_KEY,
    IAM_USER,
    BUCKET,
)
TYPES_BY_NAME: dict[str, ResourceType] = {t.name: t for t in RESOURCE_TYPES}
SCOPE_TYPES = frozenset({ACCOUNT.name, ZONE.name})
ZONAL_TYPES = tuple(t for t in RESOURCE_TYPES if t.scope == "zone" and t.api != "scope")

#: Types another type's joins read (``_derived`` fields filled after collection). Asking for the key type
#: collects these too. The zone record's resource count needs every zonal listing.
DEPENDS: Mapping[str, frozenset[str]] = {
    DISK.name: frozenset({AUTO_BACKUP.name}),
    SERVER.name: frozenset({SIMPLE_MONITOR.name}),
    PROXY_LB.name: frozenset({SIMPLE_MONITOR.name}),
    ZONE.name: frozenset(t.name for t in ZONAL_TYPES),
}


def global_resource_types() -> list[str]:
    """Types whose records have region ``global`` (for case files and reports)."""
    return sorted(t.name for t in RESOURCE_TYPES if t.scope == "global")


def redaction_rules() -> dict[str, list[str]]:
    """Per-type always-redacted data paths, for :class:`~ismap_scan.evidence.redaction.RedactionRules`."""
    return {t.name: list(t.redact) for t in RESOURCE_TYPES if t.redact}
