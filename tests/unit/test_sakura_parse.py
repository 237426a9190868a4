"""Sakura wire oddities (SAKURA-API.md §2.5) and the derived facts checks read: pure functions, no network."""

from __future__ import annotations

import base64
import struct

import pytest

from ismap_scan.providers.sakura import parse as P


def test_ids_become_strings_whatever_the_wire_type() -> None:
    as_numbers = {
        "ID": 113100000001,
        "Disk": {"ID": 113100000002},
        "EncryptionKey": {"KMSKeyID": 113198000001},
    }
    as_strings = {
        "ID": "113100000001",
        "Disk": {"ID": "113100000002"},
        "EncryptionKey": {"KMSKeyID": "113198000001"},
    }
    assert P.normalize(as_numbers) == P.normalize(as_strings) == as_strings


def test_string_booleans_and_flag_spellings() -> None:
    got = P.normalize(
        {"Enabled": "on", "Logging": "0", "WebUI": "False", "Other": "TRUE", "Name": "True story"}
    )
    assert got == {"Enabled": True, "Logging": False, "WebUI": False, "Other": True, "Name": "True story"}


def test_numbers_as_strings_under_numeric_keys_only() -> None:
    got = P.normalize({"Port": "443", "DelayLoop": "10", "DestinationPort": "22", "Rotate": " 8 "})
    assert got == {"Port": 443, "DelayLoop": 10, "DestinationPort": "22", "Rotate": 8}


def test_empty_list_for_empty_object_and_nested_empty_lists() -> None:
    got = P.normalize({"Remark": {"Network": [], "Servers": [[]]}, "Backup": [], "Tags": []})
    assert got == {"Remark": {"Network": None, "Servers": []}, "Backup": None, "Tags": []}


def test_null_holes_keep_their_position() -> None:
    got = P.normalize({"Interfaces": [{"ID": 1}, None, {"ID": 3}]})
    assert got["Interfaces"] == [{"ID": "1"}, None, {"ID": "3"}]


def test_availability_spelling_is_kept() -> None:
    assert P.normalize({"Availability": "transfering"}) == {"Availability": "transfering"}


@pytest.mark.parametrize(
    ("source", "anyone"),
    [
        (None, True),
        ("", True),
        ("0.0.0.0", True),
        ("0.0.0.0/0", True),
        ("0.0.0.0/0.0.0.0", True),
        ("198.51.100.0/24", False),
        ("0.0.0.0/1", False),
        ("not-a-net", False),
    ],
)
def test_source_is_any(source: object, anyone: bool) -> None:
    assert P.source_is_any(source) is anyone


def test_port_range_forms() -> None:
    assert P.port_range("22") == [22, 22]
    assert P.port_range("61000-32768") == [32768, 61000]
    assert P.port_range("") == P.port_range(None) == [0, 65535]
    assert P.port_range("ssh") is None


def rule(proto: str, src: object, port: object, action: str) -> dict[str, object]:
    return {"Protocol": proto, "SourceNetwork": src, "DestinationPort": port, "Action": action}


def test_first_match_wins_and_specific_sources_do_not_decide() -> None:
    rules = [
        rule("tcp", "198.51.100.0/24", "", "allow"),  # office: everything, but not "anyone"
        rule("tcp", "", "22", "deny"),
        rule("tcp", None, "1-1024", "allow"),  # 22 was already denied to anyone
        None,  # a hole
        rule("ip", "", "", "deny"),
    ]
    allowed, unmatched = P.open_ports(rules, "tcp")
    assert allowed == [[1, 21], [23, 1024]]
    assert unmatched == []


def test_unmatched_ports_are_reported_separately() -> None:
    allowed, unmatched = P.open_ports([rule("tcp", "", "443", "allow")], "tcp")
    assert allowed == [[443, 443]]
    assert unmatched == [[0, 442], [444, 65535]]


def test_ip_protocol_covers_tcp_and_udp_and_udp_rules_not_tcp() -> None:
    rules = [rule("udp", "", "53", "allow"), rule("ip", "0.0.0.0/0", "", "allow")]
    assert P.open_ports(rules, "tcp")[0] == [[0, 65535]]
    assert P.open_ports(rules, "udp")[0] == [[0, 65535]]


def test_packetfilter_deny_all_detection() -> None:
    ok = P.derive_packetfilter(
        {"Expression": [rule("tcp", "", "443", "allow"), rule("ip", "0.0.0.0/0.0.0.0", None, "deny")]}
    )
    missing = P.derive_packetfilter(
        {"Expression": [rule("ip", "", "", "deny"), rule("tcp", "", "443", "allow")]}
    )
    assert ok["EndsWithDenyAll"] is True and missing["EndsWithDenyAll"] is False


def test_nic_upstream_classification() -> None:
    assert (
        P.nic_upstream({"Switch": {"Scope": "shared", "Subnet": {"NetworkAddress": "203.0.113.0"}}})
        == "shared"
    )
    assert (
        P.nic_upstream({"Switch": {"Scope": "user", "Subnet": {"NetworkAddress": "198.51.100.0"}}})
        == "router"
    )
    assert P.nic_upstream({"Switch": {"Scope": "user", "Subnet": None}}) == "switch"
    assert P.nic_upstream({"Switch": None}) == P.nic_upstream(None) == "disconnected"


def test_vpc_router_hole_at_nic0_means_no_firewall_and_forwarding_reachable() -> None:
    data = P.normalize(
        {
            "Settings": {
                "Router": {
                    "Firewall": {"Enabled": "True", "Config": [None, {"Receive": []}]},
                    "PortForwarding": {
                        "Enabled": "True",
                        "Config": [{"Protocol": "tcp", "GlobalPort": "3389", "PrivatePort": "3389"}],
                    },
                    "PPTPServer": {"Enabled": "True"},
                    "SiteToSiteIPsecVPN": {
                        "Enabled": "True",
                        "EncryptionAlgo": "aes256",
                        "HashAlgo": "sha1",
                        "DHGroup": "modp2048",
                    },
                    "SyslogHost": "",
                }
            }
        }
    )
    d = P.derive_vpcrouter(data)
    assert d["InternetFirewall"] is False
    assert d["PortForwards"][0]["ReachableFromAny"] is True
    assert d["PPTPEnabled"] is True and d["WeakIPsec"] is True and d["LogsExported"] is False


def test_database_source_forms_and_backup_forms() -> None:
    def db(sources: object, backup: object, backup2: object = None) -> dict[str, object]:
        return P.derive_database(
            P.normalize(
                {
                    "Settings": {
                        "DBConf": {
                            "Common": {"SourceNetwork": sources},
                            "Backup": backup,
                            "Backupv2": backup2,
                        }
                    }
                }
            )
        )

    assert db([], None)["SourceOpenToAny"] is True
    assert db(["0.0.0.0/0"], None)["SourceOpenToAny"] is True
    assert db(["192.168.10.0/24"], None)["SourceOpenToAny"] is False
    assert db([], [])["BackupEnabled"] is False
    assert db([], {"Rotate": "8"})["BackupEnabled"] is True
    assert db([], None, {"Rotate": 7})["BackupEnabled"] is True


def test_openssl_certificate_date() -> None:
    assert P.openssl_date_to_iso("Jan  2 15:04:05 2026 GMT") == "2026-01-02T15:04:05Z"
    assert P.openssl_date_to_iso("2026-01-02T15:04:05+09:00") == "2026-01-02T06:04:05Z"
    assert P.openssl_date_to_iso("yesterday") is None


def _blob(*fields: bytes) -> str:
    return base64.b64encode(b"".join(struct.pack(">I", len(f)) + f for f in fields)).decode()


def test_ssh_key_facts() -> None:
    n = (1 << 1023) | 1
    rsa = "ssh-rsa " + _blob(b"ssh-rsa", b"\x01\x00\x01", b"\x00" + n.to_bytes(128, "big"))
    assert P.ssh_key_facts(rsa) == ("ssh-rsa", 1024)
    assert P.ssh_key_facts("ssh-ed25519 " + _blob(b"ssh-ed25519", bytes(32))) == ("ssh-ed25519", 256)
    assert P.ssh_key_facts("ssh-rsa !!!notbase64") == ("ssh-rsa", None)
    assert P.ssh_key_facts(None) == (None, None)
