"""``sakura:`` API roots: https anywhere, plain http only to loopback (the key travels as Basic auth)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from ismap_scan.config import load_config
from ismap_scan.errors import InputError, IsmapScanError
from ismap_scan.providers.sakura.settings import SakuraSettings, with_api_root


@pytest.mark.parametrize(
    "root",
    [
        "http://127.0.0.1:8080/cloud/zone",
        "http://127.3.4.5/cloud/zone",  # anywhere in 127.0.0.0/8
        "http://localhost:1/cloud/zone",
        "http://LOCALHOST/cloud/zone",
        "http://[::1]:9000/cloud/zone",
        "https://secure.sakura.ad.jp/cloud/zone",
        "https://api.example.internal/cloud/zone",
    ],
)
def test_accepted_roots(root: str) -> None:
    s = SakuraSettings(api_root=root, iam_root=root, objectstorage_root=root)
    assert s.api_root == s.iam_root == s.objectstorage_root == root.rstrip("/")


@pytest.mark.parametrize(
    "root",
    [
        "http://secure.sakura.ad.jp/cloud/zone",
        "http://10.0.0.5/cloud/zone",
        "http://[2001:db8::1]/cloud/zone",
        "http://127.0.0.1.example.com/cloud/zone",  # a DNS name that merely starts like a loopback address
        "http://127.0.0.1@example.com/cloud/zone",  # userinfo trick: the host is example.com
        "http://localhost.example.com/cloud/zone",
        "http://0.0.0.0/cloud/zone",
    ],
)
@pytest.mark.parametrize("setting", ["api_root", "iam_root", "objectstorage_root"])
def test_plain_http_refused_off_loopback(root: str, setting: str) -> None:
    with pytest.raises(ValidationError) as info:
        SakuraSettings.model_validate({setting: root})
    err = info.value.errors(include_url=False)[0]
    assert err["loc"] == (setting,) and "https://" in err["msg"]


def test_cli_option_error_names_the_option() -> None:
    with pytest.raises(InputError, match=r"--sakura-api-root: .*unencrypted"):
        with_api_root(None, "http://secure.sakura.ad.jp/cloud/zone")
    assert with_api_root(None, "http://127.0.0.1:5/cloud/zone").api_root == "http://127.0.0.1:5/cloud/zone"


def test_config_file_error_names_the_setting(tmp_path: Path) -> None:
    cfg = tmp_path / "ismap-scan.yaml"
    cfg.write_text("providers:\n  sakura:\n    iam_root: http://iam.example.com/cloud/api/iam/1.0\n")
    with pytest.raises(IsmapScanError) as info:
        load_config(cfg, {"sakura": SakuraSettings})
    text = str(info.value)
    assert "providers.sakura.iam_root" in text and "unencrypted" in text
