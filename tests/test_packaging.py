"""A non-editable install must find checks, mappings and templates: they ship inside the wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"building the wheel failed:\n{proc.stdout}\n{proc.stderr}")
    (whl,) = out.glob("ismap_scan-*.whl")
    return whl


def test_wheel_carries_check_pack_mappings_and_templates(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("checks", "mappings"):
        for f in (ROOT / folder).rglob("*.yaml"):
            assert f"ismap_scan/_data/{f.relative_to(ROOT).as_posix()}" in names
    templates = list((ROOT / "reports" / "templates").rglob("*.j2"))
    assert templates, "no report templates in the source tree"
    for f in templates:
        assert f"ismap_scan/_data/{f.relative_to(ROOT).as_posix()}" in names


def test_wheel_declares_entry_points(wheel: Path) -> None:
    zf = zipfile.ZipFile(wheel)
    (ep,) = [n for n in zf.namelist() if n.endswith(".dist-info/entry_points.txt")]
    text = zf.read(ep).decode()
    assert "[ismap_scan.providers]" in text and "[ismap_scan.checks]" in text
    assert "ismap-scan = ismap_scan.cli:main" in text
