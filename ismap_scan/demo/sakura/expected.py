"""Ground truth for the Sakura demo estate: the verdict each check must give for each seeded resource.

:data:`EXPECTED` is ``{check_id: {logical_name: verdict}}``; logical names are the keys of
:attr:`~.estate.SakuraEstate.names` (``server:web-1``, ``zone:tk1v``, ``account``), which map to record IDs.
Written from the estate's settings (:func:`~.estate.build_estate`) and ``checks/sakura/``, not from a scan.

Account-level checks see one account, so they give one verdict each: 2FA not required and no IP restriction
(FAIL), a strong password policy and a view-only scanning key (PASS).
"""

from __future__ import annotations

from typing import Final

PASS: Final = "PASS"
FAIL: Final = "FAIL"
NA: Final = "NOT_APPLICABLE"
ERROR: Final = "ERROR"

_CODES = {"P": PASS, "F": FAIL, "N": NA, "E": ERROR}


def _row(prefix: str, names: tuple[str, ...], verdicts: str) -> dict[str, str]:
    """Zip ``prefix:name`` with a compact verdict string: P(ASS), F(AIL), N(OT_APPLICABLE), E(RROR)."""
    if len(names) != len(verdicts):
        raise ValueError(f"{len(names)} names but {len(verdicts)} verdicts: {verdicts!r}")
    return {f"{prefix}:{n}": _CODES[v] for n, v in zip(names, verdicts, strict=True)}


_SERVERS = ("web-1", "web-2", "app-1", "bastion", "sandbox-vm")
_DISKS = ("web-1-boot", "web-2-boot", "app-1-boot", "scratch-unattached", "bastion-boot", "sandbox-boot")
_FILTERS = ("pf-web", "pf-bastion", "pf-legacy-db")
_VPCS = ("vpc-prod", "vpc-legacy", "vpc-dev", "vpc-isolated")
_DBS = ("db-prod", "db-legacy", "db-stg")
_PLBS = ("plb-web", "plb-legacy", "plb-api")
_ZONES = ("is1a", "is1b", "tk1a", "tk1b", "tk1v")

#: The ground truth; comments say why.
EXPECTED: Final[dict[str, dict[str, str]]] = {
    "sakura.iam.two_factor_auth_required": {"account": FAIL},
    "sakura.iam.login_source_ip_restricted": {"account": FAIL},  # mode allow_all
    "sakura.iam.password_policy_strong": {"account": PASS},  # 14, all classes
    "sakura.iam.scan_key_read_only": {"account": PASS},  # Permission view
    # tanaka: OTP; suzuki: nothing; sato: security key; retired: disabled
    "sakura.iam.user_two_factor_enabled": _row("iam-user", ("tanaka", "suzuki", "sato", "retired"), "PFPN"),
    # tk1v (sandbox) is not allowed; is1b and tk1b hold nothing
    "sakura.zone.resources_in_allowed_zones": _row("zone", _ZONES, "PNPNF"),
    # web-2 and sandbox-vm: shared-segment NIC without a filter; app-1 has no public NIC
    "sakura.server.public_nic_has_packet_filter": _row("server", _SERVERS, "PFNPF"),
    # monitors target web-1 and bastion
    "sakura.server.public_endpoint_monitored": _row("server", _SERVERS, "PFNPF"),
    "sakura.server.owner_tag_present": _row("server", _SERVERS, "PFPPF"),
    "sakura.disk.encrypted": _row("disk", _DISKS, "PFPFPP"),
    # app-1-boot: encrypted, EncryptionKey [] (no KMS key)
    "sakura.disk.customer_managed_key": _row("disk", _DISKS, "PNFNPP"),
    # bastion-boot has no auto backup; scratch is not attached
    "sakura.disk.auto_backup_enabled": _row("disk", _DISKS, "PFPNFP"),
    # ab-sandbox keeps 1 archive ("1" on the wire)
    "sakura.autobackup.sufficient_generations": _row(
        "autobackup", ("ab-web-1", "ab-app-1", "ab-sandbox"), "PPF"
    ),
    # pf-bastion: 22 from 0.0.0.0/0; pf-legacy-db: 22 denied to anyone first, 3306 from anyone (null source)
    "sakura.packetfilter.no_public_admin_ports": _row("packetfilter", _FILTERS, "PFP"),
    "sakura.packetfilter.no_public_database_ports": _row("packetfilter", _FILTERS, "PPF"),
    # pf-bastion ends with ip / 0.0.0.0/0.0.0.0 / deny
    "sakura.packetfilter.ends_with_deny_all": _row("packetfilter", _FILTERS, "PPF"),
    # vpc-legacy: NIC 0's firewall config is a null hole; vpc-isolated is not on the internet
    "sakura.vpcrouter.internet_firewall_enabled": _row("vpcrouter", _VPCS, "PFPN"),
    # vpc-dev allows 22 from anyone
    "sakura.vpcrouter.no_public_admin_ports": _row("vpcrouter", _VPCS, "PNFN"),
    # vpc-prod forwards 2222->22 but its firewall denies 2222 to anyone; vpc-legacy forwards 3389 unfiltered
    "sakura.vpcrouter.no_public_admin_port_forwarding": _row("vpcrouter", _VPCS, "PFPP"),
    "sakura.vpcrouter.pptp_disabled": _row("vpcrouter", _VPCS, "PFPP"),
    # vpc-dev exports through Monitoring Suite; vpc-legacy has neither
    "sakura.vpcrouter.logs_exported": _row("vpcrouter", _VPCS, "PFPP"),
    "sakura.vpcrouter.site_to_site_vpn_strong_crypto": _row("vpcrouter", _VPCS, "PFNN"),
    "sakura.loadbalancer.no_plain_http_vip": _row("loadbalancer", ("lb-web", "lb-legacy"), "PF"),
    # db-legacy: SourceNetwork []; db-stg: 0.0.0.0/0
    "sakura.database.source_network_restricted": _row("database", _DBS, "PFF"),
    # db-legacy: Backup [] and no Backupv2; db-stg: Backupv2
    "sakura.database.backup_enabled": _row("database", _DBS, "PFP"),
    "sakura.database.storage_encrypted": _row("database", _DBS, "PFP"),
    # db-legacy: a URL; db-stg: "True"
    "sakura.database.web_ui_disabled": _row("database", _DBS, "PFF"),
    # db-legacy on the shared segment, db-stg behind a router+switch
    "sakura.database.not_on_public_network": _row("database", _DBS, "PFF"),
    "sakura.proxylb.https_redirect_enabled": _row("proxylb", _PLBS, "PFN"),
    "sakura.proxylb.modern_tls_policy": _row("proxylb", _PLBS, "PFP"),
    "sakura.proxylb.logs_exported": _row("proxylb", _PLBS, "PFP"),
    # plb-web uses Let's Encrypt; plb-legacy's certificate ends in 10 days, plb-api's in 200
    "sakura.proxylb.certificate_not_expiring": _row("proxylb", _PLBS, "NFP"),
    "sakura.simplemonitor.notifications_enabled": _row("simplemonitor", ("mon-web-1", "mon-bastion"), "PF"),
    "sakura.sshkey.strong_key": _row("sshkey", ("ops-ed25519", "legacy-rsa-1024", "deploy-rsa-4096"), "PFP"),
    "sakura.objectstorage.bucket_encrypted": _row(
        "bucket", ("jp-saas-prod-logs", "jp-saas-public-assets"), "PF"
    ),
}
