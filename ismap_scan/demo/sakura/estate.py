"""The seeded Sakura Cloud estate, in the API's wire shape (SAKURA-API.md §3), oddities included.

:func:`build_estate` is the demo: a small SaaS company's account ``111122223333`` with resources in zones
is1a, tk1a and the sandbox tk1v (is1b and tk1b are empty), each resource set up to pass or fail particular
checks (the ground truth is :mod:`.expected`). :func:`build_bench_estate` is a plain fleet of N resources
spread over four zones, for ``benchmarks/bench_sakura.py``.

Wire oddities present on purpose (the collector must normalise them): IDs as numbers (strings when the
client omits ``X-Sakura-Bigint-As-Int``, done by the server), ``"True"``/``"False"`` flags, ports and counts
as strings, ``[]`` for empty objects (``Backup``, ``EncryptionKey``, ``Remark.Network``), ``[[]]`` for
``Remark.Servers``, ``null`` holes in NIC-indexed arrays, ``transfering`` (sic), an OpenSSL-format
certificate end date, and dummy secrets (DB passwords, pre-shared keys, a private key, a monitor's basic
auth password) that must never reach a snapshot. All addresses are documentation ranges.
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

ACCOUNT_ID = 111122223333
ZONES: tuple[tuple[str, int, str], ...] = (
    ("is1a", 31001, "石狩第1ゾーン"),
    ("is1b", 31002, "石狩第2ゾーン"),
    ("tk1a", 21001, "東京第1ゾーン"),
    ("tk1b", 21002, "東京第2ゾーン"),
    ("tk1v", 29001, "Sandbox"),
)
GLOBAL_PATHS = frozenset({"sshkey", "icon", "note"})
#: ``commonserviceitem`` classes that are zonal (SAKURA-API §1.1): listed per zone, the rest globally.
ZONAL_CSI_CLASSES = frozenset({"autobackup"})

#: Dummy secrets planted in the estate; tests assert none of them appears in any output file.
PLANTED_SECRETS: tuple[str, ...] = (
    "demo-db-password-7Hq2",
    "demo-replica-password-9Kx4",
    "demo-l2tp-psk-3Vb8",
    "demo-s2s-psk-5Nd1",
    "demo-remote-user-pass-2Wc6",
    "demo-monitor-basic-pass-8Tr3",
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDdemoonlyNOTAKEY",
)
_PRIVATE_KEY = f"-----BEGIN PRIVATE KEY-----\n{PLANTED_SECRETS[6]}\n-----END PRIVATE KEY-----\n"


@dataclass
class SakuraEstate:
    """What the fake serves. ``zonal[zone][path]`` and ``global_items[path]`` are lists of wire items;
    ``subresources[(path, id, suffix)]`` the bodies of sub-reads; ``iam[path]`` an IAM answer (a list is
    paged); ``objectstorage`` has ``clusters``, ``buckets[site]`` and ``encryption["site/name"]``.
    ``names`` maps a logical name (``server:web-1``) to the record ID the scanner will give it."""

    auth_status: dict[str, Any]
    zones: list[dict[str, Any]]
    zonal: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    global_items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    subresources: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    iam: dict[str, Any] = field(default_factory=dict)
    objectstorage: dict[str, Any] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    def items(self, zone: str, path: str) -> list[dict[str, Any]] | None:
        """Items a list call on ``path`` in ``zone`` sees (global items in every zone)."""
        if path == "commonserviceitem":
            zonal = [i for i in self.zonal.get(zone, {}).get(path, [])]
            return [*self.global_items.get(path, []), *zonal]
        if path in GLOBAL_PATHS:
            return self.global_items.get(path, [])
        if zone in self.zonal or path in _KNOWN_ZONAL:
            return self.zonal.get(zone, {}).get(path, [])
        return None

    def resource_count(self) -> int:
        """Resources served, scope records excluded."""
        n = sum(len(v) for z in self.zonal.values() for v in z.values())
        n += sum(len(v) for v in self.global_items.values())
        n += len(self.iam.get("compat/users", []))
        n += sum(len(v) for v in self.objectstorage.get("buckets", {}).values())
        return n


_KNOWN_ZONAL = frozenset(
    {
        "server",
        "disk",
        "switch",
        "internet",
        "interface",
        "packetfilter",
        "appliance",
        "commonserviceitem",
        "archive",
    }
)


class _Builder:
    def __init__(self) -> None:
        self._next = 113100000001
        self.now = datetime.now(UTC)
        self.estate = SakuraEstate(
            auth_status={
                "Account": {
                    "ID": ACCOUNT_ID,
                    "Name": "jp-saas-example",
                    "Code": "jpsaas",
                    "Class": "account",
                },
                "Member": {"Code": "abc12345", "Class": "member"},
                "AuthClass": "account",
                "AuthMethod": "apikey",
                "IsAPIKey": True,
                "Permission": "view",
                "ExternalPermission": "bill+eventlog",
                "OperationPenalty": "none",
            },
            zones=[
                {
                    "ID": zid,
                    "Name": name,
                    "Description": desc,
                    "IsDummy": name == "tk1v",
                    "Region": {"ID": zid // 1000 * 10, "Name": "石狩" if name.startswith("is") else "東京"},
                }
                for name, zid, desc in ZONES
            ],
        )

    def new_id(self) -> int:
        value = self._next
        self._next += 1
        return value

    def add(
        self, zone: str | None, path: str, short: str, item: dict[str, Any], logical: str | None = None
    ) -> dict[str, Any]:
        item.setdefault("ID", self.new_id())
        item.setdefault("CreatedAt", "2026-05-01T10:00:00+09:00")
        if zone is None:
            self.estate.global_items.setdefault(path, []).append(item)
        else:
            self.estate.zonal.setdefault(zone, {}).setdefault(path, []).append(item)
        region = zone if zone is not None else "global"
        self.estate.names[logical or f"{short}:{item.get('Name')}"] = f"{region}/{short}/{item['ID']}"
        return item


def _nic(
    upstream: str, ip: str | None, pf: dict[str, Any] | None = None, switch_id: int = 113199000001
) -> dict[str, Any]:
    """A server NIC leading to the shared segment, a router+switch, a private switch, or nothing."""
    if upstream == "shared":
        sw: dict[str, Any] | None = {
            "ID": 113199000100,
            "Scope": "shared",
            "Subnet": {"NetworkAddress": "203.0.113.0", "NetworkMaskLen": 24, "DefaultRoute": "203.0.113.1"},
        }
    elif upstream == "router":
        sw = {
            "ID": switch_id,
            "Scope": "user",
            "Subnet": {
                "NetworkAddress": "198.51.100.0",
                "NetworkMaskLen": 28,
                "DefaultRoute": "198.51.100.1",
            },
        }
    elif upstream == "switch":
        sw = {
            "ID": switch_id,
            "Scope": "user",
            "Subnet": None,
            "UserSubnet": {"DefaultRoute": "192.168.10.1", "NetworkMaskLen": 24},
        }
    else:
        sw = None
    return {
        "ID": None,  # filled by the builder
        "IPAddress": ip if upstream in ("shared", "router") else None,
        "UserIPAddress": ip if upstream == "switch" else None,
        "Switch": sw,
        "PacketFilter": {"ID": pf["ID"], "Name": pf["Name"], "RequiredHostVersion": 2} if pf else None,
    }


def _rule(proto: str, src: Any, port: Any, action: str, desc: str = "") -> dict[str, Any]:
    return {
        "Protocol": proto,
        "SourceNetwork": src,
        "SourcePort": "",
        "DestinationPort": port,
        "Action": action,
        "Description": desc,
    }


def _ssh_key(kind: str, bits: int = 2048) -> str:
    """An OpenSSH public key line of the right structure (random-looking, not a usable key)."""

    def s(b: bytes) -> bytes:
        return struct.pack(">I", len(b)) + b

    if kind == "ed25519":
        blob = s(b"ssh-ed25519") + s(bytes(range(32)))
        return "ssh-ed25519 " + base64.b64encode(blob).decode() + " ops@example.jp"
    modulus = (1 << (bits - 1)) | 0x1D  # top bit set: exactly `bits` long
    blob = s(b"ssh-rsa") + s((65537).to_bytes(3, "big")) + s(b"\x00" + modulus.to_bytes(bits // 8, "big"))
    return "ssh-rsa " + base64.b64encode(blob).decode() + " legacy@example.jp"


def _openssl_date(when: datetime) -> str:
    """``Jan  2 15:04:05 2026 GMT`` (ProxyLB certificate dates)."""
    return f"{when:%b} {when.day:>2} {when:%H:%M:%S %Y} GMT"


def build_estate() -> SakuraEstate:
    """The demo estate (see the module doc and :mod:`.expected`)."""
    b = _Builder()
    e = b.estate

    # -- packet filters -------------------------------------------------------------------------------
    pf_web = b.add(
        "is1a",
        "packetfilter",
        "packetfilter",
        {
            "Name": "pf-web",
            "RequiredHostVersion": 2,
            "Expression": [
                _rule("tcp", "", "443", "allow", "https"),
                _rule("tcp", "198.51.100.0/24", "22", "allow", "ssh from office"),
                _rule("tcp", None, "32768-61000", "allow", "return traffic"),
                _rule("ip", "", "", "deny", "deny all"),
            ],
        },
    )
    pf_bastion = b.add(
        "tk1a",
        "packetfilter",
        "packetfilter",
        {
            "Name": "pf-bastion",
            "RequiredHostVersion": 2,
            "Expression": [
                _rule("tcp", "0.0.0.0/0", "22", "allow", "ssh from anywhere"),
                _rule("ip", "0.0.0.0/0.0.0.0", None, "deny", "deny all"),
            ],
        },
    )
    b.add(
        "is1a",
        "packetfilter",
        "packetfilter",
        {
            "Name": "pf-legacy-db",
            "RequiredHostVersion": 2,
            "Expression": [
                _rule("tcp", None, "3306", "allow", "mysql"),
                _rule("tcp", "", "22", "deny", "no ssh"),
                _rule("tcp", "198.51.100.0/24", "", "allow", "office"),
            ],
        },
    )

    # -- servers, disks, auto backups -----------------------------------------------------------------
    servers = [
        (
            "is1a",
            "web-1",
            [_nic("shared", "203.0.113.10", pf_web), _nic("switch", "192.168.10.11")],
            ["owner=web-team", "env=prod"],
        ),
        ("is1a", "web-2", [_nic("shared", "203.0.113.11")], ["env=prod"]),
        ("is1a", "app-1", [_nic("switch", "192.168.10.21")], ["owner=app-team", "@virtio-net-pci"]),
        ("tk1a", "bastion", [_nic("router", "198.51.100.5", pf_bastion, 113199000002)], ["owner=infra"]),
        ("tk1v", "sandbox-vm", [_nic("shared", "203.0.113.50")], []),
    ]
    server_items: dict[str, dict[str, Any]] = {}
    for zone, name, nics, tags in servers:
        for nic in nics:
            nic["ID"] = b.new_id()
        server_items[name] = b.add(
            zone,
            "server",
            "server",
            {
                "Name": name,
                "Tags": tags,
                "Availability": "available",
                "Zone": {"ID": next(z[1] for z in ZONES if z[0] == zone), "Name": zone},
                "Instance": {
                    "Status": "up",
                    "Host": {"Name": f"sac-{zone}-sv001", "InfoURL": ""},
                    "CDROM": None,
                },
                "Interfaces": nics,
                "Disks": [],
            },
        )

    def disk(
        zone: str, name: str, algo: str, kms: int | None, server: str | None, key_oddity: bool = False
    ) -> dict[str, Any]:
        srv = server_items.get(server or "")
        return b.add(
            zone,
            "disk",
            "disk",
            {
                "Name": name,
                "SizeMB": "40960",
                "Connection": "virtio",
                "EncryptionAlgorithm": algo,
                "EncryptionKey": ([] if key_oddity else ({"KMSKeyID": kms} if kms else None)),
                "Plan": {"ID": 4, "Name": "SSDプラン"},
                "Server": {"ID": srv["ID"], "Name": srv["Name"]} if srv else None,
                "Availability": "available",
                "Tags": [],
            },
        )

    kms = 113198000001
    web1_boot = disk("is1a", "web-1-boot", "aes256_xts", kms, "web-1")
    disk("is1a", "web-2-boot", "none", None, "web-2")
    app1_boot = disk("is1a", "app-1-boot", "aes256_xts", None, "app-1", key_oddity=True)
    disk("tk1a", "scratch-unattached", "none", None, None)
    disk("tk1a", "bastion-boot", "aes256_xts", kms, "bastion")
    sandbox_boot = disk("tk1v", "sandbox-boot", "aes256_xts", kms, "sandbox-vm")
    for zone, name, target, keep in (
        ("is1a", "ab-web-1", web1_boot, "7"),
        ("is1a", "ab-app-1", app1_boot, 3),
        ("tk1v", "ab-sandbox", sandbox_boot, "1"),
    ):
        b.add(
            zone,
            "commonserviceitem",
            "autobackup",
            {
                "Name": name,
                "Provider": {"Class": "autobackup"},
                "Status": {"DiskID": target["ID"], "ZoneName": zone},
                "Settings": {
                    "Autobackup": {
                        "BackupSpanType": "weekdays",
                        "BackupSpanWeekdays": ["sun", "wed"],
                        "MaximumNumberOfArchives": keep,
                    }
                },
            },
        )

    # -- switches, router, archive, NFS ---------------------------------------------------------------
    b.add(
        "is1a",
        "switch",
        "switch",
        {"ID": 113199000001, "Name": "sw-private", "Scope": "user", "Subnets": None, "ServerCount": 3},
    )
    b.add(
        "tk1a",
        "switch",
        "switch",
        {
            "ID": 113199000002,
            "Name": "sw-router-tk1a",
            "Scope": "user",
            "ServerCount": 1,
            "Subnets": [{"NetworkAddress": "198.51.100.0", "NetworkMaskLen": 28}],
        },
    )
    b.add(
        "tk1a",
        "internet",
        "internet",
        {
            "Name": "rt-tk1a",
            "BandWidthMbps": "100",
            "NetworkMaskLen": 28,
            "Switch": {"ID": 113199000002, "Subnets": [{"NetworkAddress": "198.51.100.0"}], "IPv6Nets": []},
        },
    )
    b.add(
        "is1a",
        "archive",
        "archive",
        {
            "Name": "golden-image-2026",
            "Scope": "user",
            "Availability": "transfering",
            "SizeMB": 20480,
            "SourceArchive": [],
            "Tags": [],
        },
    )
    b.add(
        "is1a",
        "appliance",
        "nfs",
        {
            "Class": "nfs",
            "Name": "nfs-share",
            "Plan": {"ID": 100},
            "Instance": {"Status": "up"},
            "Interfaces": [{"Switch": {"ID": 113199000001, "Scope": "user", "Subnet": None}}],
            "Remark": {"Network": [], "Servers": [[]]},
        },
    )

    # -- databases ------------------------------------------------------------------------------------
    def database(
        zone: str, name: str, sources: Any, backup: Any, backup2: Any, algo: str, webui: Any, upstream: str
    ) -> None:
        nic_switch = {
            "shared": {"ID": 113199000100, "Scope": "shared", "Subnet": {"NetworkAddress": "203.0.113.0"}},
            "router": {"ID": 113199000002, "Scope": "user", "Subnet": {"NetworkAddress": "198.51.100.0"}},
            "switch": {"ID": 113199000001, "Scope": "user", "Subnet": None},
        }[upstream]
        b.add(
            zone,
            "appliance",
            "database",
            {
                "Class": "database",
                "Name": name,
                "Plan": {"ID": 10},
                "Instance": {"Status": "up"},
                "Interfaces": [{"Switch": nic_switch}, None],
                "Disk": {
                    "EncryptionAlgorithm": algo,
                    "EncryptionKey": {"KMSKeyID": kms} if algo != "none" else [],
                },
                "Remark": {
                    "Switch": {"ID": nic_switch["ID"]},
                    "Servers": [{"IPAddress": "192.168.10.50"}],
                    "Network": {"DefaultRoute": "192.168.10.1", "NetworkMaskLen": "24"},
                    "DBConf": {"Common": {"DatabaseName": "MariaDB", "DatabaseVersion": "10.11"}},
                },
                "Settings": {
                    "DBConf": {
                        "Common": {
                            "WebUI": webui,
                            "ServicePort": "3306",
                            "SourceNetwork": sources,
                            "DefaultUser": "app",
                            "UserPassword": PLANTED_SECRETS[0],
                            "ReplicaUser": "replica",
                            "ReplicaPassword": PLANTED_SECRETS[1],
                        },
                        "Backup": backup,
                        "Backupv2": backup2,
                        "Replication": {
                            "Model": "Master-Slave",
                            "User": "replica",
                            "Password": PLANTED_SECRETS[1],
                        }
                        if name == "db-prod"
                        else None,
                    },
                    "MonitoringSuite": {"Enabled": "False"},
                },
            },
        )

    database(
        "is1a",
        "db-prod",
        ["192.168.10.0/24"],
        {"Rotate": "8", "Time": "03:00", "DayOfWeek": ["mon", "wed", "fri"]},
        None,
        "aes256_xts",
        "False",
        "switch",
    )
    database("tk1a", "db-legacy", [], [], None, "none", "https://db-legacy.example.jp/phpmyadmin", "shared")
    database(
        "is1a",
        "db-stg",
        ["0.0.0.0/0"],
        None,
        {"Rotate": 7, "Time": "04:00", "DayOfWeek": ["sun"], "Connect": "nfs://192.168.10.60/backup"},
        "aes256_xts",
        "True",
        "router",
    )

    # -- VPC routers ----------------------------------------------------------------------------------
    def vpc(
        zone: str,
        name: str,
        internet: str,
        fw_nic0: Any,
        forwards: list[dict[str, Any]],
        pptp: str,
        syslog: str,
        ms: str,
        s2s: dict[str, Any],
    ) -> None:
        b.add(
            zone,
            "appliance",
            "vpcrouter",
            {
                "Class": "vpcrouter",
                "Name": name,
                "Plan": {"ID": 2},
                "Instance": {"Status": "up"},
                "Interfaces": [{"Switch": {"Scope": "shared"}}, None, {"Switch": {"ID": 113199000001}}],
                "Settings": {
                    "Router": {
                        "InternetConnection": {"Enabled": internet},
                        "Firewall": {"Enabled": "True", "Config": [fw_nic0, None]},
                        "PortForwarding": {"Enabled": "True" if forwards else "False", "Config": forwards},
                        "PPTPServer": {"Enabled": pptp},
                        "L2TPIPsecServer": {
                            "Enabled": "True",
                            "Config": {
                                "PreSharedSecret": PLANTED_SECRETS[2],
                                "RangeStart": "192.168.10.200",
                                "RangeStop": "192.168.10.210",
                            },
                        },
                        "RemoteAccessUsers": {
                            "Config": [{"UserName": "ops", "Password": PLANTED_SECRETS[4]}]
                        },
                        "SiteToSiteIPsecVPN": s2s,
                        "SyslogHost": syslog,
                        "MonitoringSuite": {"Enabled": ms},
                    }
                },
            },
        )

    strong = {
        "Enabled": "True",
        "EncryptionAlgo": "aes256",
        "HashAlgo": "sha256",
        "DHGroup": "modp2048",
        "Config": [
            {
                "Peer": "198.51.100.200",
                "PreSharedSecret": PLANTED_SECRETS[3],
                "RemoteID": "198.51.100.200",
                "Routes": ["10.0.0.0/16"],
                "LocalPrefix": ["192.168.10.0/24"],
            }
        ],
    }
    weak = {**strong, "EncryptionAlgo": "aes128", "HashAlgo": "sha1", "DHGroup": "modp1024"}
    vpc(
        "is1a",
        "vpc-prod",
        "True",
        {
            "Receive": [
                _rule("tcp", "", "443", "allow"),
                _rule("tcp", "198.51.100.0/24", "22", "allow"),
                {**_rule("ip", "", "", "deny"), "Logging": "True"},
            ],
            "Send": [],
        },
        [{"Protocol": "tcp", "GlobalPort": "2222", "PrivateAddress": "192.168.10.11", "PrivatePort": "22"}],
        "False",
        "192.168.10.5",
        "False",
        strong,
    )
    vpc(
        "tk1a",
        "vpc-legacy",
        "True",
        None,
        [{"Protocol": "tcp", "GlobalPort": "3389", "PrivateAddress": "192.168.20.10", "PrivatePort": "3389"}],
        "True",
        "",
        "False",
        weak,
    )
    vpc(
        "is1a",
        "vpc-dev",
        "True",
        {"Receive": [_rule("tcp", "", "22", "allow"), _rule("ip", "", "", "deny")], "Send": []},
        [],
        "False",
        "",
        "True",
        {"Enabled": "False", "Config": []},
    )
    vpc(
        "tk1a",
        "vpc-isolated",
        "False",
        {"Receive": [], "Send": []},
        [],
        "False",
        "192.168.20.5",
        "False",
        {"Enabled": "False", "Config": []},
    )

    # -- load balancers -------------------------------------------------------------------------------
    for zone, name, ports in (("is1a", "lb-web", ["443"]), ("tk1a", "lb-legacy", ["80", "443"])):
        b.add(
            zone,
            "appliance",
            "loadbalancer",
            {
                "Class": "loadbalancer",
                "Name": name,
                "Plan": {"ID": 1},
                "Instance": {"Status": "up"},
                "Settings": {
                    "LoadBalancer": [
                        {
                            "VirtualIPAddress": "192.168.10.100",
                            "Port": p,
                            "DelayLoop": "10",
                            "SorryServer": "",
                            "Servers": [
                                {
                                    "IPAddress": "192.168.10.11",
                                    "Port": p,
                                    "Enabled": "True",
                                    "HealthCheck": {"Protocol": "tcp"},
                                }
                            ],
                        }
                        for p in ports
                    ]
                },
            },
        )

    # -- enhanced load balancers (global) and their certificates ---------------------------------------
    def proxylb(
        name: str, binds: list[dict[str, Any]], le: bool, syslog: str, ms: bool, cert_days: int | None
    ) -> None:
        item = b.add(
            None,
            "commonserviceitem",
            "proxylb",
            {
                "Name": name,
                "Provider": {"Class": "proxylb"},
                "Status": {
                    "Region": "is1",
                    "FQDN": f"site-{name}.proxylb9.sakura.ne.jp",
                    "ProxyNetworks": ["198.51.100.0/28"],
                },
                "Settings": {
                    "ProxyLB": {
                        "BindPorts": binds,
                        "LetsEncrypt": {
                            "Enabled": le,
                            "CommonName": f"{name}.example.jp" if le else "",
                            "SubjectAltNames": "",
                        },
                        "Syslog": {"Server": syslog, "Port": 514},
                        "MonitoringSuiteLog": {"Enabled": ms},
                        "Servers": [
                            {"IPAddress": "192.0.2.10", "Port": 80, "Enabled": True, "ProxySSL": False}
                        ],
                    }
                },
            },
        )
        if cert_days is not None:
            e.subresources[("commonserviceitem", str(item["ID"]), "proxylb/sslcertificate")] = {
                "ProxyLB": {
                    "PrimaryCert": {
                        "ServerCertificate": "-----BEGIN CERTIFICATE-----\nMIIBdemo\n-----END CERTIFICATE-----\n",
                        "IntermediateCertificate": "",
                        "PrivateKey": _PRIVATE_KEY,
                        "CertificateEndDate": _openssl_date(b.now + timedelta(days=cert_days)),
                        "CertificateCommonName": f"{name}.example.jp",
                        "CertificateAltNames": "",
                    },
                    "AdditionalCerts": [],
                }
            }

    proxylb(
        "plb-web",
        [
            {"ProxyMode": "http", "Port": 80, "RedirectToHTTPS": True},
            {"ProxyMode": "https", "Port": 443, "SupportHTTP2": True, "SSLPolicy": "TLS-1-3-2021-06"},
        ],
        True,
        "192.0.2.20",
        False,
        None,
    )
    proxylb(
        "plb-legacy",
        [
            {"ProxyMode": "http", "Port": 80, "RedirectToHTTPS": False},
            {"ProxyMode": "https", "Port": 443, "SSLPolicy": "TLS-1-2-2019-04"},
        ],
        False,
        "",
        False,
        10,
    )
    proxylb(
        "plb-api", [{"ProxyMode": "https", "Port": 443, "SSLPolicy": "TLS-1-2-2021-06"}], False, "", True, 200
    )

    # -- simple monitors (global) ---------------------------------------------------------------------
    for name, mon_target, email in (
        ("mon-web-1", "203.0.113.10", "True"),
        ("mon-bastion", "198.51.100.5", "False"),
    ):
        b.add(
            None,
            "commonserviceitem",
            "simplemonitor",
            {
                "Name": name,
                "Provider": {"Class": "simplemon"},
                "Status": {"Target": mon_target},
                "Settings": {
                    "SimpleMonitor": {
                        "Enabled": "True",
                        "DelayLoop": "60",
                        "HealthCheck": {
                            "Protocol": "http",
                            "Port": "80",
                            "Path": "/healthz",
                            "BasicAuthUsername": "probe",
                            "BasicAuthPassword": PLANTED_SECRETS[5],
                        },
                        "NotifyEmail": {"Enabled": email},
                        "NotifySlack": {"Enabled": "False"},
                        "NotifyInterval": "7200",
                    }
                },
            },
        )

    # -- SSH keys (global) ----------------------------------------------------------------------------
    b.add(
        None,
        "sshkey",
        "sshkey",
        {"Name": "ops-ed25519", "PublicKey": _ssh_key("ed25519"), "Fingerprint": "SHA256:demo1"},
    )
    b.add(
        None,
        "sshkey",
        "sshkey",
        {"Name": "legacy-rsa-1024", "PublicKey": _ssh_key("rsa", 1024), "Fingerprint": "SHA256:demo2"},
    )
    b.add(
        None,
        "sshkey",
        "sshkey",
        {"Name": "deploy-rsa-4096", "PublicKey": _ssh_key("rsa", 4096), "Fingerprint": "SHA256:demo3"},
    )

    # -- IAM (organization settings, users) -----------------------------------------------------------
    e.iam["organization-auth-conditions"] = {
        "ip_restriction": {"mode": "allow_all", "source_network": []},
        "require_two_factor_auth": {"enabled": False},
        "datetime_restriction": {"enabled": False},
    }
    e.iam["organization-password-policy"] = {
        "min_length": 14,
        "require_uppercase": True,
        "require_lowercase": True,
        "require_symbols": True,
    }
    users = [
        ("u-0001", "tanaka", "active", "activated", False),
        ("u-0002", "suzuki", "active", "deactivated", False),
        ("u-0003", "sato", "active", "deactivated", True),
        ("u-0004", "retired", "disabled", "deactivated", False),
    ]
    e.iam["compat/users"] = [
        {
            "id": uid,
            "name": name,
            "status": status,
            "otp": {"status": otp},
            "is_security_key_registered": key,
            "is_passwordless": False,
            "created_at": "2026-04-01T09:00:00+09:00",
        }
        for uid, name, status, otp, key in users
    ]
    for uid, name, *_ in users:
        e.names[f"iam-user:{name}"] = f"global/iam-user/{uid}"

    # -- object storage -------------------------------------------------------------------------------
    e.objectstorage = {
        "clusters": [{"id": "isk01", "region": "石狩", "s3_endpoint": "s3.isk01.sakurastorage.jp"}],
        "buckets": {
            "isk01": [
                {"name": "jp-saas-prod-logs", "resource_id": "113197000001"},
                {"name": "jp-saas-public-assets", "resource_id": "113197000002"},
            ]
        },
        "encryption": {
            "isk01/jp-saas-prod-logs": {"kms_key_id": str(kms), "configured_at": "2026-05-01T10:00:00+09:00"}
        },
    }
    for bucket in ("jp-saas-prod-logs", "jp-saas-public-assets"):
        e.names[f"bucket:{bucket}"] = f"objectstorage/isk01/{bucket}"
    e.names["account"] = f"account/{ACCOUNT_ID}"
    for name, *_ in ZONES:
        e.names[f"zone:{name}"] = f"zone/{name}"
    return e


BENCH_ZONES = ("is1a", "is1b", "tk1a", "tk1b")


def build_bench_estate(resources: int = 1000, zones: tuple[str, ...] = BENCH_ZONES) -> SakuraEstate:
    """A fleet of ``resources`` zonal resources spread evenly over ``zones``: per group of four, a server
    (shared NIC, filter on every other one), its disk, a packet filter and a switch."""
    b = _Builder()
    pf_cache: dict[str, dict[str, Any]] = {}
    for i in range(resources):
        zone = zones[i % len(zones)]
        kind = (i // len(zones)) % 4
        n = i // len(zones)
        if kind == 0:
            pf_cache[zone] = b.add(
                zone,
                "packetfilter",
                "packetfilter",
                {
                    "Name": f"pf-{zone}-{n}",
                    "Expression": [
                        _rule("tcp", "", "443", "allow"),
                        _rule("tcp", "0.0.0.0/0" if n % 8 == 0 else "198.51.100.0/24", "22", "allow"),
                        _rule("ip", "", "", "deny"),
                    ],
                },
            )
        elif kind == 1:
            nic = _nic("shared", f"203.0.113.{n % 250 + 1}", pf_cache.get(zone) if n % 2 else None)
            nic["ID"] = b.new_id()
            b.add(
                zone,
                "server",
                "server",
                {
                    "Name": f"srv-{zone}-{n}",
                    "Tags": ["owner=fleet"],
                    "Interfaces": [nic],
                    "Instance": {"Status": "up", "Host": {"InfoURL": ""}},
                },
            )
        elif kind == 2:
            b.add(
                zone,
                "disk",
                "disk",
                {
                    "Name": f"disk-{zone}-{n}",
                    "EncryptionAlgorithm": "aes256_xts" if n % 3 else "none",
                    "EncryptionKey": None,
                    "Server": None,
                    "SizeMB": 20480,
                },
            )
        else:
            b.add(zone, "switch", "switch", {"Name": f"sw-{zone}-{n}", "Scope": "user", "Subnets": None})
    b.estate.zones = [z for z in b.estate.zones if z["Name"] in zones]
    b.estate.iam = {
        "organization-auth-conditions": {
            "require_two_factor_auth": {"enabled": True},
            "ip_restriction": {"mode": "allow_list", "source_network": ["198.51.100.0/24"]},
        },
        "organization-password-policy": {"min_length": 12},
        "compat/users": [],
    }
    b.estate.objectstorage = {"clusters": []}
    return b.estate
