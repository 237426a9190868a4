"""One demo scan for the whole session, made by the action's own scan step (``ismap-scan ci scan``).

``scan --demo`` takes 15-30 s, so every CI test reuses this folder (the action's ``scan-dir`` input) and only
the baseline, event and inputs change between tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from ci_support import DemoScan, clean_env
from ghsim import parse_output_file


@pytest.fixture(scope="session")
def demo_scan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoScan]:
    """``ismap-scan ci scan`` with ``INPUT_DEMO=true`` (the action's scan step), run once per session."""
    base = tmp_path_factory.mktemp("ci-demo")
    data_dir = base / "data"
    out_file = base / "github_output"
    out_file.touch()
    env = clean_env(data_dir, base)
    env.update(
        GITHUB_ACTIONS="true",
        GITHUB_OUTPUT=str(out_file),
        INPUT_DEMO="true",
        INPUT_OUTPUT_DIR=str(base / "out"),
        INPUT_FAIL_ON="high",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "ismap_scan", "ci", "scan"],
        env=env,
        cwd=base,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    outputs = parse_output_file(out_file.read_text(encoding="utf-8"))
    folder = Path(outputs["scan-dir"])
    assert json.loads((folder / "manifest.json").read_text())["demo"] is True
    yield DemoScan(folder=folder, data_dir=data_dir, outputs=outputs)
