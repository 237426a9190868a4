"""Full AWS scan benchmark: collect + evaluate the seeded demo estate at about 500 and 5,000 resources.

moto runs as a separate process (``python -m moto.server``), so its memory is not the scanner's; seeding
is done before the clock starts; the scan itself runs in a fresh child process so its peak RSS
(``getrusage(RUSAGE_SELF).ru_maxrss``) is the scanner's alone. API requests are counted with a botocore
``before-send`` handler passed as a client hook (retries included).

    .venv/bin/python benchmarks/bench_aws_scan.py                 # 500 and 5000
    .venv/bin/python benchmarks/bench_aws_scan.py --targets 500 --profile /tmp/scan.prof

Targets (issue 3): 500 resources in under 10 s and 250 MB, at most 1.5 API requests per resource.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from typing import Any

REGIONS = ("ap-northeast-1", "ap-northeast-3", "us-east-1")
FAKE = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_moto() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "MOTO_ACCOUNT_ID": "111122223333", "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, endpoint
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("moto server did not start")


def _proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux ``/proc/<pid>/stat`` fields 14-15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scan_child(endpoint: str, profile: str | None, moto_pid: int | None = None) -> dict[str, Any]:
    """Collect and evaluate in this (fresh) process; returns the figures.

    ``cpu_s`` is this process's user+system CPU during the scan, ``moto_cpu_s`` the moto server's
    (on a loaded 2-core machine wall time varies with other load; CPU time does much less).
    """
    import resource
    import threading

    from ismap_scan.demo.aws.server import s3control_host_prefix_hook
    from ismap_scan.engine import evaluate, load_checks
    from ismap_scan.providers.aws.provider import AwsProvider
    from ismap_scan.providers.base import CollectOptions, NullProgress

    lock = threading.Lock()
    counts: dict[str, int] = {}

    def count(**kwargs: Any) -> None:
        op = kwargs.get("event_name", "").split(".", 2)[-1]
        with lock:
            counts[op] = counts.get(op, 0) + 1

    def hook(session: Any) -> None:
        session.events.register("before-send", count)

    settings = {"endpoint_url": endpoint, "regions": list(REGIONS), "max_attempts": 1}
    options = CollectOptions(
        settings=settings, max_workers=8, client_hooks=[s3control_host_prefix_hook, hook]
    )
    profiler: Any = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    moto_cpu0 = _proc_cpu_s(moto_pid) if moto_pid else 0.0
    cpu0 = time.process_time()
    started = time.perf_counter()
    records = list(AwsProvider().collect(options, NullProgress()))
    collected = time.perf_counter()
    collect_cpu = time.process_time() - cpu0
    moto_cpu = _proc_cpu_s(moto_pid) - moto_cpu0 if moto_pid else None
    results = evaluate(records, load_checks())
    finished = time.perf_counter()
    cpu = time.process_time() - cpu0
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    scope = {"aws.account", "aws.region"}
    resources = sum(1 for r in records if r.type not in scope)
    requests = sum(counts.values())
    return {
        "records": len(records),
        "resources": resources,
        "results": len(results),
        "collect_s": round(collected - started, 2),
        "evaluate_s": round(finished - collected, 2),
        "wall_s": round(finished - started, 2),
        "collect_cpu_s": round(collect_cpu, 2),
        "cpu_s": round(cpu, 2),
        "moto_cpu_s": None if moto_cpu is None else round(moto_cpu, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "requests": requests,
        "requests_per_resource": round(requests / max(resources, 1), 2),
        "top_operations": sorted(counts.items(), key=lambda kv: -kv[1])[:8],
    }


def run(target: int, profile: str | None, repeat: int = 1) -> list[dict[str, Any]]:
    """Seed moto for ``target`` resources, then scan it ``repeat`` times (fresh process each); one figure
    dict per scan."""
    from ismap_scan.demo.aws.seed import seed

    # Scale 1 collects about 358 resources (seeded estate plus defaults: default VPCs/security groups, attached
    # AWS managed policies, per-region singletons); each further unit of scale adds about 202.
    scale = max(1, round((target - 358) / 202) + 1)
    proc, endpoint = _start_moto()
    try:
        os.environ.update(FAKE)
        os.environ["AWS_MAX_ATTEMPTS"] = "1"
        t0 = time.perf_counter()
        report = seed(endpoint, regions=REGIONS, scale=scale)
        seeding = time.perf_counter() - t0
        cmd = [sys.executable, __file__, "--child", endpoint, "--moto-pid", str(proc.pid)]
        cmd += ["--profile", profile] if profile else []
        runs = []
        for _ in range(repeat):
            out = subprocess.run(cmd, check=True, capture_output=True, text=True, env={**os.environ, **FAKE})
            figures: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
            figures.update(target=target, scale=scale, seeded=report.total, seeding_s=round(seeding, 1))
            runs.append(figures)
        return runs
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--targets", default="500,5000", help="comma list of estate sizes (resources)")
    parser.add_argument("--profile", help="write a cProfile of the scan (collect + evaluate) to this file")
    parser.add_argument("--repeat", type=int, default=1, help="scans of each seeded estate (default 1)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--moto-pid", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(scan_child(args.child, args.profile, args.moto_pid)))
        return
    for target in (int(t) for t in args.targets.split(",")):
        for fig in run(target, args.profile, args.repeat):
            print(json.dumps(fig), flush=True)
            print(
                f"target {target}: {fig['resources']} resources ({fig['records']} records, seeded {fig['seeded']} "
                f"at scale {fig['scale']} in {fig['seeding_s']} s) | wall {fig['wall_s']} s (collect "
                f"{fig['collect_s']}, evaluate {fig['evaluate_s']}) | scanner CPU {fig['cpu_s']} s (collect "
                f"{fig['collect_cpu_s']}), moto CPU {fig['moto_cpu_s']} s | peak RSS {fig['peak_rss_mb']} MB | "
                f"{fig['requests']} requests = {fig['requests_per_resource']} per resource",
                flush=True,
            )


if __name__ == "__main__":
    main()
