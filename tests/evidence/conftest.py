"""Fixtures for the evidence-store tests: real scan folders made by the real engine from small snapshots.

``scan_factory(buckets, started_at=...)`` writes ``OUT/<scan-id>/`` the way ``scan`` does (snapshot, results,
controls, manifest) for an account with the given S3 buckets, ``{name: versioning_enabled}``, evaluated with
the bundled S3 checks. No cloud, no moto: fast enough to build many scans per test.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ismap_scan import paths
from ismap_scan import scan as pipeline
from ismap_scan.config import ScanConfig
from ismap_scan.engine import load_checks
from ismap_scan.model import Resource

ACCOUNT = "111122223333"
_counter = itertools.count(1)


def _bucket(name: str, versioning: bool, at: str) -> Resource:
    return Resource(
        provider="aws",
        account=ACCOUNT,
        region="ap-northeast-1",
        type="aws.s3.bucket",
        id=f"arn:aws:s3:::{name}",
        name=name,
        collected_at=at,
        data={
            "Name": name,
            "BucketRegion": "ap-northeast-1",
            "Versioning": {"Status": "Enabled"} if versioning else {},
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
            "ServerSideEncryptionConfiguration": {
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
            "LoggingEnabled": None,
            "Policy": None,
            "PolicyStatus": None,
            "Acl": {"Owner": {"ID": "owner"}, "Grants": []},
            "Tags": None,
        },
    )


def _account(at: str) -> Resource:
    return Resource(
        provider="aws",
        account=ACCOUNT,
        region="global",
        type="aws.account",
        id=f"arn:aws:iam::{ACCOUNT}:root",
        name=ACCOUNT,
        collected_at=at,
        data={"AccountId": ACCOUNT, "PublicAccessBlockConfiguration": None},
    )


@pytest.fixture(scope="session")
def pack_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the bundled S3 checks: the pack these tests store, bundle and re-evaluate (a copy, so
    check files being edited elsewhere in the tree cannot change it mid-run)."""
    root = tmp_path_factory.mktemp("pack") / "checks"
    (root / "aws").mkdir(parents=True)
    shutil.copy(paths.checks_dir() / "aws" / "s3.yaml", root / "aws" / "s3.yaml")
    return root


@pytest.fixture(scope="session")
def s3_checks(pack_dir: Path) -> Any:
    return load_checks(dirs=[pack_dir]).select(services=["s3"])


@pytest.fixture
def scan_factory(tmp_path: Path, s3_checks: Any) -> Callable[..., Path]:
    out = tmp_path / "out"

    def make(
        buckets: dict[str, bool], started_at: str = "2026-11-30T01:00:00Z", assertion: Path | None = None
    ) -> Path:
        cfg = ScanConfig()
        cfg.output.formats = ["jsonl"]
        cfg.assertion = assertion
        resources = [_account(started_at), *(_bucket(n, v, started_at) for n, v in sorted(buckets.items()))]
        scan_id = f"{started_at.replace('-', '').replace(':', '')}-{next(_counter):06x}"
        folder = out / scan_id
        folder.mkdir(parents=True)
        digest = pipeline.write_snapshot(folder / "snapshot.jsonl.gz", resources)
        pipeline.evaluate_and_report(
            cfg, s3_checks, resources, folder, scan_id, started_at, started_at, ["jsonl"]
        )
        pipeline.write_manifest(
            folder,
            scan_id,
            kind="scan",
            cfg=cfg,
            checks=s3_checks,
            started_at=started_at,
            finished_at=started_at,
            resources=resources,
            snapshot=digest,
        )
        return folder

    return make


@pytest.fixture
def store_kwargs(s3_checks: Any, pack_dir: Path) -> dict[str, Any]:
    """What ``scan`` passes to ``store_scan``: the bundled check pack and the S3 selection."""
    return {
        "check_dirs": [pack_dir],
        "mappings_dir": paths.mappings_dir(),
        "selection": {
            "check_ids": s3_checks.ids(),
            "params": {c.id: dict(c.params) for c in s3_checks if c.params},
        },
    }
