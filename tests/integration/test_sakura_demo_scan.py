"""``ismap-scan scan --demo --provider sakura`` end to end (CLI in-process, fake API on 127.0.0.1): every
result mapped, PASS and FAIL for at least 25 Sakura checks, and no planted secret in any output file."""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner

from ismap_scan.cli import cli
from ismap_scan.demo.sakura.estate import PLANTED_SECRETS
from ismap_scan.demo.sakura.server import FAKE_SECRET


@pytest.fixture(scope="module")
def scan_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sakura-demo")
    result = CliRunner().invoke(
        cli,
        ["scan", "--demo", "--provider", "sakura", "--output-dir", str(out), "--no-store"],
        catch_exceptions=False,
    )
    assert result.exit_code == 3, result.output  # FAILs exist, no ERROR
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    return folder


def _texts(folder: Path) -> dict[str, str]:
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            raw = path.read_bytes()
            out[path.name] = (gzip.decompress(raw) if path.suffix == ".gz" else raw).decode(
                "utf-8", "replace"
            )
    return out


def test_no_secret_in_any_output_file(scan_folder: Path) -> None:
    texts = _texts(scan_folder)
    assert {"snapshot.jsonl.gz", "results.jsonl", "manifest.json"} <= set(texts)
    for name, text in texts.items():
        for secret in (*PLANTED_SECRETS, FAKE_SECRET):
            assert secret not in text, f"{secret!r} leaked into {name}"
    assert "<redacted>" in texts["snapshot.jsonl.gz"]


def test_pass_and_fail_for_25_checks_all_mapped(scan_folder: Path) -> None:
    results = [json.loads(line) for line in (scan_folder / "results.jsonl").read_text().splitlines()]
    assert results and all(r["provider"] == "sakura" for r in results)
    seen: dict[str, set[str]] = defaultdict(set)
    for r in results:
        seen[r["check_id"]].add(r["verdict"])
        assert r["controls"], f"{r['check_id']} is not mapped to a control"
    both = [c for c, v in seen.items() if {"PASS", "FAIL"} <= v]
    assert len(both) >= 25
    assert "ERROR" not in {v for vs in seen.values() for v in vs}
