"""Helpers shared by the CI tests (imported by name: conftest modules are not importable reliably)."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from ismap_scan.demo.aws.server import FAKE_CREDENTIALS_ENV

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = str(Path(sys.executable).parent)


def clean_env(data_dir: Path, tmp: Path) -> dict[str, str]:
    """The host environment without any real GitHub/AWS settings, with fake credentials (TESTING-NOTES §8)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITHUB_", "INPUT_", "RUNNER_", "AWS_", "ISMAP_SCAN_", "ACTIONS_"))
    }
    env.update(FAKE_CREDENTIALS_ENV)
    env.update(
        AWS_MAX_ATTEMPTS="1",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=str(tmp / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp / "no-aws-config"),
        ISMAP_SCAN_DATA_DIR=str(data_dir),
        PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""),
        NO_COLOR="1",
    )
    return env


@dataclass(frozen=True)
class DemoScan:
    folder: Path
    data_dir: Path
    outputs: dict[str, str]

    @property
    def results(self) -> Path:
        return self.folder / "results.jsonl"
