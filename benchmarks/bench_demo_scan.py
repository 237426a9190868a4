"""Benchmark: seed the demo estate into moto, collect it with AwsProvider, evaluate the checks; print figures.

Usage::

    .venv/bin/python benchmarks/bench_demo_scan.py              # scale 1
    .venv/bin/python benchmarks/bench_demo_scan.py --scale 4    # scale 1, then scale 4

Each scale runs on a freshly reset moto server (in this process, 127.0.0.1, ephemeral port) with fake
credentials. Requests are counted with a botocore ``before-send`` hook on every client (seeding and
collection separately). Peak RSS is ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (KiB on Linux): it only
grows, so later rows include the earlier runs and the moto server itself (same process).

This is not a test: it asserts nothing and prints one block of figures per scale.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import threading
import time
from collections import Counter
from typing import Any

from ismap_scan.demo.aws.expected import expected_verdicts
from ismap_scan.demo.aws.seed import seed
from ismap_scan.demo.aws.server import MotoHandle, s3control_host_prefix_hook, start_moto
from ismap_scan.engine import evaluate, load_checks
from ismap_scan.providers.aws.provider import AwsProvider
from ismap_scan.providers.aws.settings import AwsSettings
from ismap_scan.providers.base import CollectOptions, NullProgress


class RequestCounter:
    """A client hook: counts every HTTP request sent by clients of the sessions it is given (thread-safe)."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def _on_send(self, **_: Any) -> None:
        with self._lock:
            self.count += 1

    def __call__(self, session: Any) -> None:
        session.events.register("before-send", self._on_send, unique_id="bench-request-counter")


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_once(moto: MotoHandle, scale: int, workers: int) -> dict[str, Any]:
    """Seed, collect and evaluate once at ``scale``; returns the figures."""
    moto.reset()
    report = seed(moto.endpoint, scale=scale)

    counter = RequestCounter()
    settings = AwsSettings(regions=list(report.regions), endpoint_url=moto.endpoint, max_attempts=1)
    options = CollectOptions(
        settings=settings, max_workers=workers, client_hooks=[s3control_host_prefix_hook, counter]
    )
    t0 = time.perf_counter()
    records = list(AwsProvider().collect(options, NullProgress()))
    collect_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    checks = load_checks()
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    results = evaluate(records, checks)
    eval_s = time.perf_counter() - t0

    verdicts = Counter(r.verdict.value for r in results)
    truth = expected_verdicts(scale, backdated=report.backdated)
    by_id = {(r.check_id, r.resource_id): r.verdict.value for r in results}
    agree = total = 0
    for check_id, per in truth.items():
        for name, verdict in per.items():
            total += 1
            ids = report.ids(name)
            agree += any(by_id.get((check_id, i)) == verdict for i in ids)
    return {
        "scale": scale,
        "seeded resources": len(report.resources),
        "seed requests": report.requests,
        "seed s": round(report.seconds, 2),
        "collect requests": counter.count,
        "collect s": round(collect_s, 2),
        "records": len(records),
        "load checks s": round(load_s, 3),
        "evaluate s": round(eval_s, 3),
        "results": len(results),
        "verdicts": dict(sorted(verdicts.items())),
        "ground truth agreeing": f"{agree}/{total}",
        "peak RSS MiB (process)": round(_peak_rss_mib(), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=None, help="also run at this scale (after scale 1)")
    parser.add_argument("--workers", type=int, default=8, help="collector threads (default 8)")
    args = parser.parse_args(argv)
    if args.scale is not None and args.scale < 1:
        parser.error("--scale must be >= 1")

    # Explicit fake credentials only; never the default chain against anything but the local moto.
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        os.environ.pop(name, None)
    scales = [1] if args.scale in (None, 1) else [1, args.scale]
    with start_moto() as moto:
        os.environ.update(moto.env(region="ap-northeast-1"))
        print(f"moto at {moto.endpoint}, account {moto.account_id}, {os.cpu_count()} CPUs")
        print(f"collector workers {args.workers}")
        for scale in scales:
            figures = run_once(moto, scale, args.workers)
            print(f"\n== scale {scale}")
            for key, value in figures.items():
                print(f"  {key:<24} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
