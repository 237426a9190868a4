"""Benchmark: the check engine alone on a synthetic snapshot of AWS-shaped records (issue 3, point 6b).

Usage::

    .venv/bin/python benchmarks/bench_engine.py                      # 100,000 resources, all bundled checks
    .venv/bin/python benchmarks/bench_engine.py --resources 20000 --profile   # + cProfile top functions

The snapshot is built from the records of the check case files (``tests/checks/``): every case record is a
realistic, hand-checked AWS record (PASS, FAIL and ERROR variants, collection errors included), so the
mix exercises the same expressions and error paths as real scans. Records are cloned with new IDs over
10 accounts and 3 regions, in the proportions of :data:`TYPE_WEIGHTS` (a typical estate has far more
security groups, volumes and instances than trails or accounts); every account and region gets its scope
record, and one region in ten has a failed listing (an ``aws.region`` error with ``resource_type``).
A type that checks judge but no case file describes gets plain records with empty ``data``.

Timed: ``evaluate(records, checks, check_map)`` only (building the snapshot and loading checks are not).
Peak RSS is ``getrusage(RUSAGE_SELF).ru_maxrss`` for the whole process (snapshot included). Prints
figures; asserts nothing. Targets (issue 3): 100,000 resources under 10 s and under 1 GB.
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import io
import pstats
import random
import resource
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from ismap_scan.engine import evaluate, load_checks
from ismap_scan.engine.casetest import find_case_files, load_case_file
from ismap_scan.errors import IsmapScanError
from ismap_scan.mappings import load_check_map
from ismap_scan.model import CollectionError, Resource
from ismap_scan.scan import known_resource_types

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "checks" / "aws"
ACCOUNTS = [f"{100000000000 + i * 111111111:012d}" for i in range(10)]
REGIONS = ["ap-northeast-1", "ap-northeast-3", "us-east-1"]
COLLECTED_AT = "2026-11-30T00:00:00Z"

#: Relative share of each resource type in the synthetic estate; types not listed get weight 1.
TYPE_WEIGHTS: dict[str, float] = {
    "aws.ec2.security_group": 20,
    "aws.ec2.volume": 14,
    "aws.ec2.instance": 12,
    "aws.s3.bucket": 8,
    "aws.iam.role": 8,
    "aws.iam.user": 5,
    "aws.iam.policy": 5,
    "aws.lambda.function": 5,
    "aws.logs.log_group": 5,
    "aws.kms.key": 3,
    "aws.ec2.vpc": 2,
    "aws.ec2.snapshot": 4,
    "aws.rds.db_instance": 2,
    "aws.iam.group": 1,
    "aws.cloudtrail.trail": 0.2,
}
SCOPE_TYPES = ("aws.account", "aws.region")


def rss_mib() -> float:
    """Peak resident set size of this process so far, MiB (``ru_maxrss`` is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def case_templates() -> dict[str, list[Resource]]:
    """Case-file records by type (the bundled cases, plus any the tree has when this runs)."""
    out: dict[str, list[Resource]] = defaultdict(list)
    for path in find_case_files([CASES]):
        try:
            spec = load_case_file(path)
        except IsmapScanError:
            continue
        for rec in spec.records:
            out[rec.type].append(rec)
    return out


def _clone(template: Resource, rtype: str, account: str, region: str, n: int) -> Resource:
    rid = f"arn:aws:{rtype.split('.')[1]}:{region}:{account}:{rtype.rsplit('.', 1)[-1]}/bench-{n}"
    return Resource(
        provider="aws",
        account=account,
        region=template.region if template.region == "global" else region,
        type=rtype,
        id=rid,
        name=f"bench-{n}",
        collected_at=COLLECTED_AT,
        data=copy.deepcopy(template.data),
        errors=list(template.errors),
        redactions=list(template.redactions),
    )


def build_snapshot(total: int, checked_types: set[str], seed: int = 7) -> tuple[list[Resource], Counter[str]]:
    """``total`` records (scope records included) and the count per type."""
    rnd = random.Random(seed)
    templates = case_templates()
    records: list[Resource] = []
    n = 0
    for a, account in enumerate(ACCOUNTS):
        acct_templates = [t for t in templates.get("aws.account", []) if not t.errors] or [
            Resource("aws", account, "global", "aws.account", "", "", COLLECTED_AT)
        ]
        acct = _clone(rnd.choice(acct_templates), "aws.account", account, "global", n)
        acct.id, acct.region = f"arn:aws:iam::{account}:root", "global"
        records.append(acct)
        for r, region in enumerate(REGIONS):
            reg = Resource(
                "aws",
                account,
                region,
                "aws.region",
                f"arn:aws::{region}:{account}:region",
                region,
                COLLECTED_AT,
                data={
                    "RegionName": region,
                    "OptInStatus": "opt-in-not-required",
                    "EbsEncryptionByDefault": r != 1,
                },
            )
            if (a * len(REGIONS) + r) % 10 == 9:  # a failed listing: every check on that type is ERROR there
                reg.errors.append(
                    CollectionError("*", "ec2:DescribeVolumes", "AccessDenied", "denied", "aws.ec2.volume")
                )
            records.append(reg)
    types = sorted(t for t in checked_types if t not in SCOPE_TYPES)
    weights = [TYPE_WEIGHTS.get(t, 1.0) for t in types]
    while len(records) < total:
        rtype = rnd.choices(types, weights)[0]
        pool = templates.get(rtype) or [Resource("aws", "", "", rtype, "", "", COLLECTED_AT)]
        n += 1
        records.append(_clone(rnd.choice(pool), rtype, rnd.choice(ACCOUNTS), rnd.choice(REGIONS), n))
    return records, Counter(r.type for r in records)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=100_000)
    parser.add_argument("--profile", action="store_true", help="cProfile the evaluation; print the top 25")
    args = parser.parse_args(argv)

    checks = load_checks(known_types=known_resource_types())
    check_map = load_check_map()
    checks = checks.select(providers=["aws"])
    checked_types = {c.resource for c in checks}
    records, per_type = build_snapshot(args.resources, checked_types)
    no_template = sorted(t for t in checked_types if t not in case_templates())
    rss_before = rss_mib()

    profiler = cProfile.Profile() if args.profile else None
    started, cpu_started = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    results = evaluate(records, checks, check_map)
    if profiler:
        profiler.disable()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started

    judged = sum(n for t, n in per_type.items() if any(c.resource == t for c in checks))
    verdicts = Counter(r.verdict.value for r in results)
    print(f"resources          {len(records):,} ({len(per_type)} types; {judged:,} judged by some check)")
    print(f"checks             {len(checks)} ({sum(1 for c in checks if c.kind == 'python')} Python)")
    print(f"evaluations        {len(results):,}  {dict(sorted(verdicts.items()))}")
    print(f"checks / resource  {len(results) / max(judged, 1):.2f} (judged resources)")
    print(f"wall time          {wall:.2f} s  (evaluate only{', under cProfile' if profiler else ''})")
    print(f"CPU time           {cpu:.2f} s  (this process; wall exceeds it when other work shares the cores)")
    print(f"evaluations / s    {len(results) / wall:,.0f} (wall), {len(results) / cpu:,.0f} (CPU)")
    print(f"peak RSS           {rss_mib():.0f} MiB (snapshot built: {rss_before:.0f} MiB)")
    print(
        f"targets            < 10 s: {'met' if wall < 10 else 'MISSED'}; < 1 GiB: "
        f"{'met' if rss_mib() < 1024 else 'MISSED'}"
    )
    if no_template:
        print(f"types without case records (empty data): {', '.join(no_template)}")
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
