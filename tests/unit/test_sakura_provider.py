"""SakuraProvider's declarations: type selection with join dependencies, redaction rules, lazy imports."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ismap_scan.errors import InputError
from ismap_scan.evidence.redaction import redact
from ismap_scan.model import Resource
from ismap_scan.providers.sakura import types as T
from ismap_scan.providers.sakura.provider import SakuraProvider, wanted_types


def test_asking_for_disks_also_collects_auto_backups() -> None:
    names = {t.name for t in wanted_types({"sakura.disk", "aws.s3.bucket"})}
    assert names == {"sakura.disk", "sakura.autobackup"}


def test_the_zone_check_pulls_every_zonal_type() -> None:
    names = {t.name for t in wanted_types({"sakura.zone"})}
    assert names >= {t.name for t in T.ZONAL_TYPES}


def test_unknown_type_is_an_input_error() -> None:
    with pytest.raises(InputError):
        wanted_types({"sakura.nope"})


def test_declared_secret_paths_are_redacted() -> None:
    data = {
        "Settings": {
            "Router": {
                "RemoteAccessUsers": {"Config": [{"UserName": "ops", "Password": "pw-one"}]},
                "L2TPIPsecServer": {"Config": {"PreSharedSecret": "psk-one"}},
                "SiteToSiteIPsecVPN": {"Config": [{"Peer": "198.51.100.1", "PreSharedSecret": "psk-two"}]},
            }
        }
    }
    rec = Resource(
        "sakura",
        "111122223333",
        "is1a",
        "sakura.vpcrouter",
        "is1a/vpcrouter/1",
        "r",
        "2026-11-30T00:00:00Z",
        data,
    )
    out = redact(rec, SakuraProvider().redaction_rules())
    text = str(out.data)
    assert "pw-one" not in text and "psk-one" not in text and "psk-two" not in text
    assert "ops" in text and "198.51.100.1" in text
    assert len(out.redactions) == 3


def test_declarations_do_not_import_requests() -> None:
    code = (
        "import sys; from ismap_scan.providers.sakura.provider import SakuraProvider; "
        "p = SakuraProvider(); p.resource_types(); p.settings_model(); "
        "print('requests' in sys.modules, 'urllib3' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False False"


def test_global_types_match_declarations() -> None:
    assert "sakura.proxylb" in SakuraProvider().global_resource_types()
    assert "sakura.autobackup" not in SakuraProvider().global_resource_types()
