"""Tolerant parsing of Sakura wire values, and the derived facts checks read under ``data._derived``.

:func:`normalize` irons out the documented oddities (SAKURA-API.md §2.5) so one snapshot shape results
whatever the server sent:

1. IDs (``ID`` and keys ending in ``ID``: ``DiskID``, ``KMSKeyID``) arrive as numbers with
   ``X-Sakura-Bigint-As-Int: 1`` and as strings without it -> always strings (``"113100000001"``).
2. ``"True"``/``"False"`` (any case) -> booleans; flag keys (``Enabled``, ``Logging``...) also accept
   ``on``/``off``/``1``/``0``.
3. Numbers as strings under port/count keys (``"Port": "443"``) -> ints.
4. ``[]`` where an object is expected (``Remark.Network``, ``DBConf.Backup``, ``SourceAppliance``) ->
   ``null``; ``[[]]`` (``Remark.Servers``) -> ``[]``.
5. ``null`` holes in NIC-indexed arrays are kept (the position is the NIC index).

Derivers (``derive_<name>``) add ``data._derived``; each documents its fields. Port logic for packet filters
and VPC-router firewalls follows the manual: rules are read top to bottom, the first match wins; a blank
source/port is ANY; protocol ``ip`` matches TCP and UDP. Only rules whose source is "anyone"
(blank, ``0.0.0.0``, ``0.0.0.0/0``, ``0.0.0.0/0.0.0.0``) decide what "the internet" can reach; a rule for a
specific network neither opens nor closes a port to everyone.
"""

from __future__ import annotations

import base64
import ipaddress
import struct
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

_FLAG_KEYS = frozenset(
    {"Enabled", "Logging", "RedirectToHTTPS", "SupportHTTP2", "ProxySSL", "UseVIPFailover", "IsDummy"}
)
_NUMERIC_KEYS = frozenset(
    {
        "Port",
        "GlobalPort",
        "PrivatePort",
        "DelayLoop",
        "Rotate",
        "MaximumNumberOfArchives",
        "ServicePort",
        "NetworkMaskLen",
        "SizeMB",
        "BandWidthMbps",
        "RemainingDays",
        "NotifyInterval",
        "Weight",
    }
)
#: Keys whose value is an object; ``[]`` there means "empty object" on the wire.
_OBJECT_KEYS = frozenset(
    {
        "Network",
        "Backup",
        "Backupv2",
        "SourceAppliance",
        "Replication",
        "EncryptionKey",
        "Host",
        "Instance",
        "Remark",
        "Settings",
        "Status",
        "Switch",
        "PacketFilter",
        "Server",
        "Zone",
        "Plan",
        "Icon",
        "Disk",
    }
)
_TRUE = frozenset({"true", "on", "1", "yes"})
_FALSE = frozenset({"false", "off", "0", "no", ""})


def _is_id_key(key: str) -> bool:
    return key == "ID" or (key.endswith("ID") and key[:-2][-1:].isalpha())


def normalize(value: Any, key: str = "") -> Any:
    """A normalised copy of a wire value (see the module doc). Never raises."""
    if isinstance(value, dict):
        return {k: normalize(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        if key in _OBJECT_KEYS and not value:
            return None
        if value and all(isinstance(v, list) and not v for v in value):
            return []  # [[]]
        return [normalize(v, key) for v in value]
    if _is_id_key(key) and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        low = value.strip().lower()
        if key in _FLAG_KEYS and (low in _TRUE or low in _FALSE):
            return low in _TRUE
        if low in ("true", "false") and value.strip() in ("True", "False", "true", "false", "TRUE", "FALSE"):
            return low == "true"
        if key in _NUMERIC_KEYS and value.strip().isdigit():
            return int(value.strip())
    return value


def truthy(value: Any) -> bool:
    """Sakura's boolean-ish values: ``True``, ``"True"``/``"on"``/``"1"``, a non-empty URL -> ``True``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() not in _FALSE
    return bool(value)


# -- network rules ------------------------------------------------------------------------------------------

MAX_PORT = 65535
Range = list[int]  # [from, to], inclusive


def source_is_any(source: Any) -> bool:
    """True when a rule's source network means "anyone": blank/null, ``0.0.0.0``, or a /0 network
    (``0.0.0.0/0``, ``0.0.0.0/0.0.0.0``)."""
    if source is None:
        return True
    text = str(source).strip()
    if text in ("", "0.0.0.0"):
        return True
    try:
        return ipaddress.ip_network(text, strict=False).prefixlen == 0
    except ValueError:
        return False


def port_range(spec: Any) -> Range | None:
    """``"22"`` -> ``[22, 22]``, ``"32768-61000"`` -> the range, blank/null -> ``[0, 65535]`` (ANY);
    ``None`` for an unparsable spec (kept out of decisions, see :func:`open_ports`)."""
    if spec is None:
        return [0, MAX_PORT]
    if isinstance(spec, int) and not isinstance(spec, bool):
        return [spec, spec]
    text = str(spec).strip()
    if not text:
        return [0, MAX_PORT]
    low, _, high = text.partition("-")
    if not low.strip().isdigit() or (high and not high.strip().isdigit()):
        return None
    a, b = int(low), int(high) if high else int(low)
    return [min(a, b), max(a, b)]


def _subtract(ranges: list[Range], cut: Range) -> tuple[list[Range], list[Range]]:
    """Split ``ranges`` by ``cut``: (the parts outside it, the parts inside it)."""
    outside: list[Range] = []
    inside: list[Range] = []
    for a, b in ranges:
        lo, hi = max(a, cut[0]), min(b, cut[1])
        if lo > hi:
            outside.append([a, b])
            continue
        inside.append([lo, hi])
        if a < lo:
            outside.append([a, lo - 1])
        if hi < b:
            outside.append([hi + 1, b])
    return sorted(outside), sorted(inside)


def _merge(ranges: Iterable[Range]) -> list[Range]:
    out: list[Range] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


def open_ports(
    rules: Iterable[dict[str, Any] | None], protocol: str, port_key: str = "DestinationPort"
) -> tuple[list[Range], list[Range]]:
    """First-match evaluation for traffic from anyone on ``protocol`` (``"tcp"``/``"udp"``).

    Returns ``(allowed, unmatched)``: port ranges an any-source ``allow`` rule decides first, and ranges no
    any-source rule matches (the implicit action decides those; the manual does not say which, VERIFY).
    ``null`` rules (holes) and rules with an unparsable port are skipped.
    """
    undecided: list[Range] = [[0, MAX_PORT]]
    allowed: list[Range] = []
    for rule in rules:
        if not isinstance(rule, dict):
            continue
        proto = str(rule.get("Protocol") or "").lower()
        if proto not in (protocol, "ip"):
            continue
        if not source_is_any(rule.get("SourceNetwork")):
            continue
        ports = port_range(rule.get(port_key)) if proto != "ip" else [0, MAX_PORT]
        if ports is None:
            continue
        undecided, hit = _subtract(undecided, ports)
        if str(rule.get("Action") or "").lower() == "allow":
            allowed.extend(hit)
    return _merge(allowed), _merge(undecided)


def _in_ranges(port: int | None, ranges: list[Range]) -> bool:
    return port is not None and any(a <= port <= b for a, b in ranges)


# -- derivers -----------------------------------------------------------------------------------------------


def nic_upstream(nic: dict[str, Any] | None) -> str:
    """Where a NIC leads (iaas-api-go's ``UpstreamType`` rule): ``shared`` (shared segment, public IPv4),
    ``router`` (router+switch, public IPv4), ``switch`` (private switch) or ``disconnected``."""
    if not isinstance(nic, dict) or not isinstance(nic.get("Switch"), dict):
        return "disconnected"
    sw = nic["Switch"]
    if sw.get("Scope") == "shared":
        return "shared"
    if sw.get("Subnet"):
        return "router"
    return "switch"


def derive_server(data: dict[str, Any]) -> dict[str, Any]:
    """``Interfaces``: per NIC ``{Index, ID, Upstream, PacketFilterID, IPAddress}``; ``PublicIPs``;
    ``TagKeys``: the ``key`` of ``key=value`` tags (a tag without ``=`` is its own key)."""
    nics = []
    public: list[str] = []
    for i, nic in enumerate(data.get("Interfaces") or []):
        if not isinstance(nic, dict):
            continue
        upstream = nic_upstream(nic)
        pf = nic.get("PacketFilter")
        ip = nic.get("IPAddress") or None
        nics.append(
            {
                "Index": i,
                "ID": nic.get("ID"),
                "Upstream": upstream,
                "PacketFilterID": pf.get("ID") if isinstance(pf, dict) else None,
                "IPAddress": ip,
            }
        )
        if upstream in ("shared", "router") and ip:
            public.append(ip)
    return {"Interfaces": nics, "PublicIPs": public, "TagKeys": tag_keys(data.get("Tags"))}


def tag_keys(tags: Any) -> list[str]:
    """Distinct keys of ``key=value`` string tags, sorted (special ``@`` tags excluded)."""
    keys = {
        str(t).split("=", 1)[0].strip() for t in tags or [] if isinstance(t, str) and not t.startswith("@")
    }
    return sorted(k for k in keys if k)


def disk_encrypted(data: dict[str, Any]) -> bool:
    """``EncryptionAlgorithm`` set and not ``none`` (values: ``none``, ``aes256_xts``)."""
    algo = data.get("EncryptionAlgorithm")
    return isinstance(algo, str) and algo.strip().lower() not in ("", "none")


def derive_disk(data: dict[str, Any]) -> dict[str, Any]:
    """``Encrypted``; ``KMSKeyID`` (``EncryptionKey.KMSKeyID`` or ``null``); ``InUse`` (attached to a server)."""
    key = data.get("EncryptionKey")
    kms = key.get("KMSKeyID") if isinstance(key, dict) else None
    return {
        "Encrypted": disk_encrypted(data),
        "KMSKeyID": kms or None,
        "InUse": isinstance(data.get("Server"), dict),
    }


def derive_internet(data: dict[str, Any]) -> dict[str, Any]:
    """``IPv6Enabled``: the router's switch has IPv6 networks (packet filters only match IPv4)."""
    sw = data.get("Switch") if isinstance(data.get("Switch"), dict) else {}
    return {"IPv6Enabled": bool((sw or {}).get("IPv6Nets"))}


def derive_packetfilter(data: dict[str, Any]) -> dict[str, Any]:
    """``TcpAllowedFromAny`` / ``UdpAllowedFromAny``: port ranges opened to anyone by first match;
    ``TcpUnmatched``: ranges no any-source rule decides; ``EndsWithDenyAll``: the last rule is protocol
    ``ip``, any source, ``deny``; ``RuleCount``."""
    rules = [r for r in data.get("Expression") or [] if isinstance(r, dict)]
    tcp, tcp_unmatched = open_ports(rules, "tcp")
    udp, _ = open_ports(rules, "udp")
    last = rules[-1] if rules else None
    deny_all = bool(
        last
        and str(last.get("Protocol") or "").lower() == "ip"
        and source_is_any(last.get("SourceNetwork"))
        and str(last.get("Action") or "").lower() == "deny"
    )
    return {
        "TcpAllowedFromAny": tcp,
        "UdpAllowedFromAny": udp,
        "TcpUnmatched": tcp_unmatched,
        "EndsWithDenyAll": deny_all,
        "RuleCount": len(rules),
    }


def derive_database(data: dict[str, Any]) -> dict[str, Any]:
    """``SourceOpenToAny``: ``SourceNetwork`` null/``[]`` or holding a /0 network (both mean anyone);
    ``BackupEnabled``: ``Backup`` with ``Rotate`` > 0 or a ``Backupv2``; ``WebUIEnabled`` (``WebUI`` true or
    a URL); ``Upstream`` of NIC 0; ``Encrypted`` (``Disk.EncryptionAlgorithm``)."""
    conf = (
        ((data.get("Settings") or {}).get("DBConf") or {}) if isinstance(data.get("Settings"), dict) else {}
    )
    common = conf.get("Common") or {}
    sources = common.get("SourceNetwork")
    if isinstance(sources, str):
        sources = [sources] if sources.strip() else []
    open_any = not sources or any(source_is_any(s) for s in sources if s is not None)
    backup = conf.get("Backup")
    rotate = backup.get("Rotate") if isinstance(backup, dict) else None
    classic = isinstance(rotate, int) and rotate > 0
    continuous = isinstance(conf.get("Backupv2"), dict) and bool(conf["Backupv2"])
    nics = data.get("Interfaces") or []
    disk = data.get("Disk") if isinstance(data.get("Disk"), dict) else {}
    return {
        "SourceOpenToAny": open_any,
        "BackupEnabled": classic or continuous,
        "WebUIEnabled": truthy(common.get("WebUI")) if common.get("WebUI") is not None else False,
        "Upstream": nic_upstream(nics[0] if nics else None),
        "Encrypted": disk_encrypted(disk or {}),
    }


def derive_vpcrouter(data: dict[str, Any]) -> dict[str, Any]:
    """Facts about NIC 0 (the internet side):

    - ``InternetFirewall``: ``true`` when the firewall is enabled and NIC 0 has receive rules;
    - ``TcpAllowedFromAny`` / ``TcpUnmatched``: first-match ranges of NIC 0's receive rules (all ports
      unmatched when there is no firewall);
    - ``PortForwards``: ``{Protocol, GlobalPort, PrivatePort, PrivateAddress, ReachableFromAny}``, reachable
      when the global port is allowed to anyone, or NIC 0 has no firewall at all;
    - ``PPTPEnabled``, ``L2TPEnabled``, ``SiteToSiteEnabled``, ``LogsExported`` (``SyslogHost`` set or
      Monitoring Suite on), ``WeakIPsec`` (sha1 hash, modp1024 DH group, or a non-AES cipher while
      site-to-site VPN is on).
    """
    router = (
        ((data.get("Settings") or {}).get("Router") or {}) if isinstance(data.get("Settings"), dict) else {}
    )
    fw = router.get("Firewall") or {}
    configs = fw.get("Config") if isinstance(fw, dict) else None
    nic0 = configs[0] if isinstance(configs, list) and configs and isinstance(configs[0], dict) else {}
    receive = [r for r in (nic0 or {}).get("Receive") or [] if isinstance(r, dict)]
    has_fw = truthy(fw.get("Enabled", True) if isinstance(fw, dict) else False) and bool(receive)
    tcp, unmatched = open_ports(receive, "tcp") if has_fw else ([], [[0, MAX_PORT]])
    udp, udp_unmatched = open_ports(receive, "udp") if has_fw else ([], [[0, MAX_PORT]])
    pf_block = router.get("PortForwarding") or {}
    forwards = []
    if isinstance(pf_block, dict) and truthy(pf_block.get("Enabled", True)):
        for entry in pf_block.get("Config") or []:
            if not isinstance(entry, dict):
                continue
            proto = str(entry.get("Protocol") or "tcp").lower()
            gport = entry.get("GlobalPort")
            allowed = tcp if proto == "tcp" else udp
            reachable = (not has_fw) or _in_ranges(gport if isinstance(gport, int) else None, allowed)
            forwards.append(
                {
                    "Protocol": proto,
                    "GlobalPort": gport,
                    "PrivatePort": entry.get("PrivatePort"),
                    "PrivateAddress": entry.get("PrivateAddress"),
                    "ReachableFromAny": reachable,
                }
            )
    s2s = router.get("SiteToSiteIPsecVPN") or {}
    s2s_on = isinstance(s2s, dict) and (truthy(s2s.get("Enabled")) or bool(s2s.get("Config")))
    weak = bool(
        s2s_on
        and (
            str(s2s.get("HashAlgo") or "").lower() in ("sha1", "md5")
            or str(s2s.get("DHGroup") or "").lower() in ("modp768", "modp1024")
            or str(s2s.get("EncryptionAlgo") or "aes").lower()[:3] != "aes"
        )
    )
    ms = router.get("MonitoringSuite") or {}
    return {
        "InternetFirewall": has_fw,
        "TcpAllowedFromAny": tcp,
        "TcpUnmatched": unmatched,
        "UdpUnmatched": udp_unmatched,
        "PortForwards": forwards,
        "PPTPEnabled": truthy((router.get("PPTPServer") or {}).get("Enabled")),
        "L2TPEnabled": truthy((router.get("L2TPIPsecServer") or {}).get("Enabled")),
        "SiteToSiteEnabled": s2s_on,
        "WeakIPsec": weak,
        "LogsExported": bool(str(router.get("SyslogHost") or "").strip())
        or truthy((ms or {}).get("Enabled") if isinstance(ms, dict) else False),
    }


_OPENSSL_DATE = "%b %d %H:%M:%S %Y GMT"


def openssl_date_to_iso(text: Any) -> str | None:
    """``"Jan  2 15:04:05 2026 GMT"`` (ProxyLB ``CertificateEndDate``) -> ``"2026-01-02T15:04:05Z"``.
    ISO 8601 input is passed through (normalised to ``Z``); anything else -> ``None``."""
    if not isinstance(text, str) or not text.strip():
        return None
    raw = " ".join(text.split())
    try:
        parsed = datetime.strptime(raw, _OPENSSL_DATE).replace(tzinfo=UTC)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def derive_proxylb(data: dict[str, Any]) -> dict[str, Any]:
    """``CertificateEndDate``: the primary certificate's end date as ISO 8601 (``null`` when there is no
    certificate); ``LetsEncrypt`` (auto-renewed certificates); ``LogsExported`` (syslog server or
    Monitoring Suite log); ``Endpoints``: FQDN, VIP and certificate common name (for monitor joins)."""
    plb = (
        ((data.get("Settings") or {}).get("ProxyLB") or {}) if isinstance(data.get("Settings"), dict) else {}
    )
    certs = data.get("Certificates") if isinstance(data.get("Certificates"), dict) else {}
    primary = (certs or {}).get("PrimaryCert") or {}
    le = plb.get("LetsEncrypt") or {}
    syslog = plb.get("Syslog") or {}
    status = data.get("Status") if isinstance(data.get("Status"), dict) else {}
    endpoints = [v for v in ((status or {}).get("FQDN"), (status or {}).get("VirtualIPAddress")) if v]
    if isinstance(le, dict) and le.get("CommonName"):
        endpoints.append(le["CommonName"])
    return {
        "CertificateEndDate": openssl_date_to_iso(primary.get("CertificateEndDate")) if primary else None,
        "LetsEncrypt": truthy(le.get("Enabled")) if isinstance(le, dict) else False,
        "LogsExported": bool(str((syslog or {}).get("Server") or "").strip())
        or truthy(((plb.get("MonitoringSuiteLog") or {}) or {}).get("Enabled")),
        "Endpoints": endpoints,
    }


def ssh_key_facts(public_key: Any) -> tuple[str | None, int | None]:
    """``(algorithm, bits)`` of an OpenSSH public key line (``"ssh-rsa AAAA... comment"``).

    RSA: the modulus length; DSA: 1024; ed25519: 256; ECDSA: the curve size. ``(None, None)`` when the key
    cannot be read.
    """
    if not isinstance(public_key, str):
        return None, None
    parts = public_key.split()
    if len(parts) < 2:
        return None, None
    algo = parts[0]
    try:
        blob = base64.b64decode(parts[1], validate=True)
        fields: list[bytes] = []
        pos = 0
        while pos < len(blob) and len(fields) < 4:
            (n,) = struct.unpack(">I", blob[pos : pos + 4])
            fields.append(blob[pos + 4 : pos + 4 + n])
            pos += 4 + n
    except (ValueError, struct.error):
        return algo, None
    if algo == "ssh-rsa" and len(fields) >= 3:
        return algo, int.from_bytes(fields[2], "big").bit_length()
    if algo == "ssh-dss":
        return algo, 1024
    if algo == "ssh-ed25519":
        return algo, 256
    if algo.startswith("ecdsa-sha2-nistp"):
        return algo, int(algo.rsplit("nistp", 1)[1]) if algo.rsplit("nistp", 1)[1].isdigit() else None
    return algo, None


def derive_sshkey(data: dict[str, Any]) -> dict[str, Any]:
    """``KeyType`` and ``KeyBits`` of ``PublicKey`` (see :func:`ssh_key_facts`)."""
    algo, bits = ssh_key_facts(data.get("PublicKey"))
    return {"KeyType": algo, "KeyBits": bits}


DERIVERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "server": derive_server,
    "disk": derive_disk,
    "internet": derive_internet,
    "packetfilter": derive_packetfilter,
    "database": derive_database,
    "vpcrouter": derive_vpcrouter,
    "proxylb": derive_proxylb,
    "sshkey": derive_sshkey,
}
