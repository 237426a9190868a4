"""End to end on the demo estate: seed moto, collect with AwsProvider, evaluate, compare with ground truth.

The ground truth (ismap_scan.demo.aws.expected) was written from the estate's settings and the check
definitions, so a mismatch means the seeder, a collector, a check or the engine is wrong: the message names
the check, resource, expected and actual verdict and the result's message.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from ismap_scan.demo.aws.expected import expected_verdicts
from ismap_scan.demo.aws.seed import SeedReport, seed
from ismap_scan.demo.aws.server import MotoHandle, s3control_host_prefix_hook
from ismap_scan.engine import evaluate, load_checks
from ismap_scan.model import Resource, Result, canonical_json
from ismap_scan.providers.aws.provider import AwsProvider
from ismap_scan.providers.aws.settings import AwsSettings
from ismap_scan.providers.base import CollectOptions, NullProgress

pytestmark = pytest.mark.moto


@dataclass
class Scan:
    report: SeedReport
    records: list[Resource]
    results: list[Result]


@pytest.fixture(scope="module")
def scan(moto_server: MotoHandle) -> Iterator[Scan]:
    """The session's moto server (tests/conftest.py), seeded once at scale 1, collected and evaluated once
    for the whole module (about 13 s on 2 cores)."""
    moto = moto_server
    saved = dict(os.environ)
    # Explicit fake credentials and no metadata probing: the provider reads the default chain (env).
    os.environ.update(moto.env(region="ap-northeast-1"))
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        os.environ.pop(name, None)
    try:
        # Start from (and leave behind) an empty moto: other tests share this server.
        moto.reset()
        report = seed(moto.endpoint)
        settings = AwsSettings(regions=list(report.regions), endpoint_url=moto.endpoint, max_attempts=1)
        options = CollectOptions(settings=settings, max_workers=4, client_hooks=[s3control_host_prefix_hook])
        records = list(AwsProvider().collect(options, NullProgress()))
        results = evaluate(records, load_checks())
        yield Scan(report, records, results)
    finally:
        moto.reset()
        os.environ.clear()
        os.environ.update(saved)


def _by_resource(results: list[Result]) -> dict[tuple[str, str], list[Result]]:
    out: dict[tuple[str, str], list[Result]] = defaultdict(list)
    for r in results:
        out[(r.check_id, r.resource_id)].append(r)
    return out


def test_seeding_backdated_the_iam_dates(scan: Scan) -> None:
    assert scan.report.backdated, scan.report.notes
    assert scan.report.account_id == "111122223333"
    assert 250 <= len(scan.report.resources) <= 400


def test_every_ground_truth_verdict(scan: Scan) -> None:
    expected = expected_verdicts(scan.report.scale, backdated=scan.report.backdated)
    found = _by_resource(scan.results)
    problems: list[str] = []
    checked = 0
    for check_id, per_resource in sorted(expected.items()):
        for name, verdict in sorted(per_resource.items()):
            ids = scan.report.ids(name)
            hits = [r for rid in ids for r in found.get((check_id, rid), [])]
            if len(hits) != 1:
                problems.append(f"{check_id} {name} ({sorted(ids)}): {len(hits)} results, expected 1")
                continue
            checked += 1
            got = hits[0]
            if got.verdict.value != verdict:
                problems.append(
                    f"{check_id} {name}: expected {verdict}, got {got.verdict.value}: {got.message}"
                )
    assert not problems, f"{len(problems)} of {checked + len(problems)} verdicts differ:\n" + "\n".join(
        problems
    )


def test_at_least_20_checks_give_both_pass_and_fail(scan: Scan) -> None:
    seen: dict[str, set[str]] = defaultdict(set)
    for r in scan.results:
        seen[r.check_id].add(r.verdict.value)
    both = sorted(c for c, v in seen.items() if {"PASS", "FAIL"} <= v)
    assert len(both) >= 20, f"only {len(both)} checks with PASS and FAIL: {both}"


def test_every_seeded_resource_was_collected(scan: Scan) -> None:
    collected = {(r.type, r.id) for r in scan.records}
    missing = [
        f"{name} ({res.type} {res.id})"
        for name, res in scan.report.resources.items()
        if (res.type, res.id) not in collected
    ]
    assert not missing, missing


def test_lambda_secret_values_never_reach_the_snapshot(scan: Scan) -> None:
    functions = [r for r in scan.records if r.type == "aws.lambda.function"]
    assert {f.name for f in functions} >= {"jp-saas-invoice-renderer", "jp-saas-webhook-relay"}
    text = "\n".join(canonical_json(r.to_dict()) for r in scan.records)
    assert "demo-fake-password-not-a-secret-0000" not in text
    assert "demo_tok_0000000000000000000000000000fake" not in text
    assert all(r.redactions for r in functions)
