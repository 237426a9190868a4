"""Evidence store write time per scan and database size after 30 nightly scans of a ~500-resource estate.

One real demo scan (moto, through boto3) gives the snapshot; 30 nightly scans are then synthesised from it
with small changes (a few buckets gain or lose versioning each night, a bucket appears now and then),
evaluated with the real engine and stored one after the other. Prints per-scan store time and the size of
the SQLite database and the blob folder.

    .venv/bin/python benchmarks/bench_store.py [--nights 30] [--resources 500] [--store URL]
"""

from __future__ import annotations

import argparse
import copy
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ismap_scan import paths
from ismap_scan import scan as pipeline
from ismap_scan.config import ScanConfig
from ismap_scan.demo.runner import demo_estate
from ismap_scan.evidence.store import open_store
from ismap_scan.model import Resource


def _demo_snapshot() -> list[Resource]:
    cfg = ScanConfig()
    with demo_estate(["aws"]) as estate:
        from ismap_scan.providers.base import get_provider

        cfg.providers = {
            n: get_provider(n).settings_model().model_validate(s) for n, s in estate.settings.items()
        }
        checks = pipeline.build_checkset(cfg)
        return pipeline.collect(cfg, checks, client_hooks=estate.client_hooks).resources


def _grow(base: list[Resource], target: int) -> list[Resource]:
    """Pad to ``target`` records by cloning buckets and security groups under new IDs."""
    out = list(base)
    pool = [r for r in base if r.type in ("aws.s3.bucket", "aws.ec2.security_group")]
    i = 0
    while len(out) < target and pool:
        src = pool[i % len(pool)]
        clone = copy.deepcopy(src)
        clone.id = f"{src.id}-clone{i}"
        clone.name = f"{src.name}-clone{i}"
        out.append(clone)
        i += 1
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nights", type=int, default=30)
    ap.add_argument("--resources", type=int, default=500)
    ap.add_argument("--store", help="store URL (default: a temporary SQLite file)")
    args = ap.parse_args()
    rng = random.Random(7)
    base = _grow(_demo_snapshot(), args.resources)
    cfg = ScanConfig()
    cfg.output.formats = ["jsonl"]
    checks = pipeline.build_checkset(cfg)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "evidence.sqlite3"
        url = args.store or f"sqlite:///{db}"
        times: list[float] = []
        start = datetime(2026, 11, 1, 16, 0, tzinfo=UTC)  # 01:00 JST
        records = list(base)
        with open_store(url, blob_root=Path(tmp) / "blobs") as store:
            for night in range(args.nights):
                at = (start + timedelta(days=night)).strftime("%Y-%m-%dT%H:%M:%SZ")
                records = [copy.deepcopy(r) for r in records]
                buckets = [r for r in records if r.type == "aws.s3.bucket"]
                for r in rng.sample(buckets, min(3, len(buckets))):
                    r.data["Versioning"] = {} if r.data.get("Versioning") else {"Status": "Enabled"}
                for r in records:
                    r.collected_at = at
                scan_id = f"{at.replace('-', '').replace(':', '')}-{night:06x}"
                folder = Path(tmp) / "out" / scan_id
                folder.mkdir(parents=True)
                digest = pipeline.write_snapshot(folder / "snapshot.jsonl.gz", records)
                pipeline.evaluate_and_report(cfg, checks, records, folder, scan_id, at, at, ["jsonl"])
                pipeline.write_manifest(
                    folder,
                    scan_id,
                    kind="scan",
                    cfg=cfg,
                    checks=checks,
                    started_at=at,
                    finished_at=at,
                    resources=records,
                    snapshot=digest,
                )
                t0 = time.perf_counter()
                store.store_scan(
                    folder,
                    check_dirs=[paths.checks_dir()],
                    mappings_dir=paths.mappings_dir(),
                    selection={"check_ids": checks.ids()},
                )
                times.append(time.perf_counter() - t0)
            rows = store.count_rows()
            ok = store.verify_chain(store.latest_scope() or "").ok
        blob_bytes = sum(p.stat().st_size for p in (Path(tmp) / "blobs").rglob("*") if p.is_file())
        print(f"records per scan: {len(records)}; results per scan: {rows['results'] // args.nights}")
        print(
            f"store write time per scan: median {statistics.median(times) * 1000:.0f} ms, "
            f"max {max(times) * 1000:.0f} ms (first {times[0] * 1000:.0f} ms)"
        )
        if not args.store:
            print(f"database size after {args.nights} scans: {db.stat().st_size / 1e6:.1f} MB")
        print(f"blob folder (snapshots + check pack): {blob_bytes / 1e6:.1f} MB; chain verifies: {ok}")
        print(f"rows: {rows}")


if __name__ == "__main__":
    main()
