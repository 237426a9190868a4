"""Benchmark: collect a 1,000-resource Sakura Cloud estate across 4 zones from the fake API; print figures.

Usage::

    .venv/bin/python benchmarks/bench_sakura.py                   # 1000 resources, limiter default then off
    .venv/bin/python benchmarks/bench_sakura.py --resources 4000 --latency 0.02

For each run a fresh fake API (127.0.0.1, ephemeral port, werkzeug threaded) serves
``build_bench_estate(resources, zones=is1a, is1b, tk1a, tk1b)``; SakuraProvider collects it with 8 workers
and the Sakura checks are evaluated. Requests are counted by the fake (every HTTP request it answered,
retries included). ``--latency`` adds that many seconds to every answer, to imitate a remote API.
Rows: rate limiter at its default (5 requests/s, the Sakura SDKs' default) and switched off (``rate_limit: 0``).

This is not a test: it asserts nothing and prints one line per run.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from ismap_scan.demo.sakura.estate import BENCH_ZONES, build_bench_estate
from ismap_scan.demo.sakura.server import start_fake_sakura
from ismap_scan.engine import evaluate, load_checks
from ismap_scan.providers.base import CollectOptions, NullProgress
from ismap_scan.providers.sakura.provider import SakuraProvider
from ismap_scan.providers.sakura.settings import SakuraSettings

CHECKS = Path(__file__).resolve().parents[1] / "checks" / "sakura"


def run(resources: int, rate_limit: float | None, latency: float, checks: object) -> str:
    estate = build_bench_estate(resources, BENCH_ZONES)
    with start_fake_sakura(estate, page_cap=100, keep_log=False) as fake:
        fake.app.latency = latency
        settings = fake.settings()
        if rate_limit is not None:
            settings["rate_limit"] = rate_limit
        label = f"{SakuraSettings(**settings).rate_limit:g} req/s" if rate_limit != 0 else "off"
        t0 = time.perf_counter()
        records = list(
            SakuraProvider().collect(CollectOptions(settings=settings, max_workers=8), NullProgress())
        )
        t1 = time.perf_counter()
        results = evaluate(records, checks)  # type: ignore[arg-type]
        t2 = time.perf_counter()
        n = sum(1 for r in records if r.type not in ("sakura.account", "sakura.zone"))
        return (
            f"limiter {label:>10}  resources {n:5d}  requests {fake.app.requests:4d}  "
            f"collect {t1 - t0:7.2f} s  evaluate {t2 - t1:5.2f} s  results {len(results)}"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resources", type=int, default=1000)
    ap.add_argument("--latency", type=float, default=0.0, help="seconds added to every fake answer")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp())
    try:
        shutil.copytree(CHECKS, tmp / "sakura")
        checks = load_checks(dirs=[tmp], include_python=False)
    finally:
        shutil.rmtree(tmp)
    print(
        f"Sakura benchmark: {args.resources} resources over {', '.join(BENCH_ZONES)}, latency {args.latency:g} s"
    )
    for rate in (None, 0.0):
        print(run(args.resources, rate, args.latency, checks), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
