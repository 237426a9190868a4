"""``action.yml``: metadata valid against the GitHub Actions schema, no script injection, and its steps run in a
simulated runner (``ghsim``) on the session's demo scan for push, schedule and pull_request events."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import jsonschema
from ci_support import REPO, DemoScan, clean_env
from ghsim import Run, Runner, load_yaml, run_action

from ismap_scan.model import Result, Verdict
from ismap_scan.reports import read_results

SCHEMAS = REPO / "tests" / "schemas"
INSTALL = {"install": {"ismap-scan": str(Path(sys.executable).parent / "ismap-scan")}}


def action() -> dict[str, Any]:
    return load_yaml(REPO / "action.yml")


def test_action_metadata_is_valid() -> None:
    schema = json.loads((SCHEMAS / "github-actions.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(action())


def test_no_expression_is_expanded_in_shell_code() -> None:
    """Inputs reach shell steps through env only (GitHub's script-injection guidance)."""
    for step in action()["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], step.get("name")
            assert step.get("shell") == "bash"


def test_every_input_is_passed_to_the_validation_step() -> None:
    meta = action()
    validate = next(s for s in meta["runs"]["steps"] if s.get("id") == "inputs")
    mapped = set(validate["env"])
    expected = {
        "INPUT_" + name.upper().replace("-", "_")
        for name in meta["inputs"]
        if name not in ("github-token", "python-version")  # used by `uses:` steps only, never by Python
    }
    assert mapped == expected
    for name, value in validate["env"].items():
        input_name = name.removeprefix("INPUT_").lower().replace("_", "-")
        assert value == "${{ inputs." + input_name + " }}"


def one_new_failure_baseline(scan: DemoScan, tmp: Path) -> tuple[Path, Result]:
    """The demo results with one high-severity FAIL turned into PASS: against it, that failure is new."""
    results = read_results(scan.results)
    victim = next(r for r in results if r.verdict is Verdict.FAIL and r.severity.value == "high")
    lines = []
    for r in results:
        d = r.to_dict()
        if r.finding_key == victim.finding_key:
            d["verdict"] = "PASS"
        lines.append(json.dumps(d, sort_keys=True, ensure_ascii=False, separators=(",", ":")))
    path = tmp / "baseline" / "results.jsonl"
    path.parent.mkdir()
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, victim


def make_runner(tmp: Path, scan: DemoScan, event_name: str, event: dict[str, Any] | None = None) -> Runner:
    ws = tmp / "ws"
    ws.mkdir(exist_ok=True)
    return Runner(ws, event_name, event or {}, base_env=clean_env(scan.data_dir, tmp))


def run(runner: Runner, scan: DemoScan, **inputs: str) -> Run:
    base = {"scan-dir": str(scan.folder), "bundle": "false", "python-version": ""}
    base.update(inputs)
    return run_action(runner, base, INSTALL)


PR_EVENT = {"pull_request": {"number": 7, "head": {"sha": "0" * 40}}, "number": 7}


def expected_incomplete(scan: DemoScan) -> int:
    return 4 if any(r.verdict is Verdict.ERROR for r in read_results(scan.results)) else 0


def test_schedule_without_baseline_fails_on_any_failure(demo_scan: DemoScan, tmp_path: Path) -> None:
    r = run(make_runner(tmp_path, demo_scan, "schedule"), demo_scan)
    assert r.status == "failure"
    assert r.step("Gate").returncode == 3
    assert r.outputs["exit-code"] == "3"
    assert r.outputs["failed"] == "true"
    gating = [
        x for x in read_results(demo_scan.results) if x.verdict is Verdict.FAIL and x.severity.rank >= 3
    ]
    assert r.outputs["new-failures-gating"] == str(len(gating))
    assert "## ismap-scan: failed" in r.summary
    assert "No baseline" not in r.summary or "no baseline" in r.summary.lower()
    assert "::error title=ISMAP failure::" in r.log  # annotations for the gating failures
    # uses: steps: SARIF in gate mode, artifacts always, no PR comment on schedule
    assert r.step("Upload SARIF to code scanning").outcome == "success"
    assert r.step("Upload reports and evidence").with_["path"].split("\n")[0] == str(demo_scan.folder)
    assert r.step("Comment on the pull request").outcome == "skipped"


def test_push_same_as_baseline_passes(demo_scan: DemoScan, tmp_path: Path) -> None:
    r = run(make_runner(tmp_path, demo_scan, "push"), demo_scan, baseline=str(demo_scan.results))
    assert r.status == "success", r.log
    assert r.outputs["new-failures"] == "0"
    assert r.outputs["exit-code"] == str(expected_incomplete(demo_scan))
    assert r.outputs["failed"] == "false"
    assert int(r.outputs["fail"]) > 0  # the failures are there, just not new
    assert "## ismap-scan: " in r.summary and "New failures since the baseline: none" in r.summary
    assert r.outputs["results"] == str(demo_scan.results)


def test_push_one_new_failure_fails_and_names_it(demo_scan: DemoScan, tmp_path: Path) -> None:
    baseline, victim = one_new_failure_baseline(demo_scan, tmp_path)
    r = run(make_runner(tmp_path, demo_scan, "push"), demo_scan, baseline=str(baseline))
    assert r.status == "failure"
    assert r.step("Gate").returncode == 3
    assert r.outputs["new-failures"] == "1" and r.outputs["new-failures-gating"] == "1"
    assert "1 new failure at or above high since the baseline" in r.summary
    assert f"`{victim.check_id}`" in r.summary and f"`{victim.resource_id}`" in r.summary
    assert f"::error title=New ISMAP failure::{victim.check_id}" in r.log
    # The steps between the report and the gate still ran: artifacts are uploaded when the gate fails.
    assert r.step("Upload reports and evidence").outcome == "success"


def test_soft_fail_reports_without_failing(demo_scan: DemoScan, tmp_path: Path) -> None:
    baseline, victim = one_new_failure_baseline(demo_scan, tmp_path)
    r = run(
        make_runner(tmp_path, demo_scan, "schedule"),
        demo_scan,
        baseline=str(baseline),
        **{"soft-fail": "true"},
    )
    assert r.status == "success"
    assert r.outputs["exit-code"] == "3" and r.outputs["failed"] == "false"
    assert "soft-fail" in r.summary and victim.resource_id in r.summary
    assert f"::warning title=New ISMAP failure::{victim.check_id}" in r.log


def test_fail_on_threshold_above_the_new_failure_passes(demo_scan: DemoScan, tmp_path: Path) -> None:
    baseline, _victim = one_new_failure_baseline(demo_scan, tmp_path)  # the new one is "high"
    r = run(
        make_runner(tmp_path, demo_scan, "push"), demo_scan, baseline=str(baseline), **{"fail-on": "critical"}
    )
    assert r.status == "success"
    assert r.outputs["new-failures"] == "1" and r.outputs["new-failures-gating"] == "0"


def test_missing_baseline_warns_and_counts_every_failure(demo_scan: DemoScan, tmp_path: Path) -> None:
    r = run(make_runner(tmp_path, demo_scan, "push"), demo_scan, baseline=str(tmp_path / "nothing-here"))
    assert "::warning title=ismap-scan baseline::baseline" in r.log
    assert r.status == "failure" and r.outputs["exit-code"] == "3"


def test_pull_request_comments_on_touched_resources_and_never_fails(
    demo_scan: DemoScan, tmp_path: Path
) -> None:
    baseline, victim = one_new_failure_baseline(demo_scan, tmp_path)
    plan = {
        "format_version": "1.2",
        "resource_changes": [
            {
                "address": "aws_x.changed",
                "change": {
                    "actions": ["update"],
                    "before": {"arn": victim.resource_id},
                    "after": {"arn": victim.resource_id},
                },
            },
            {"address": "aws_s3_bucket.new", "change": {"actions": ["create"], "before": None, "after": {}}},
        ],
    }
    runner = make_runner(tmp_path, demo_scan, "pull_request", PR_EVENT)
    (runner.workspace / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    r = run(runner, demo_scan, baseline=str(baseline), resources="plan.json")
    assert r.status == "success", r.log
    assert r.outputs["mode"] == "comment" and r.outputs["exit-code"] == "3" and r.outputs["failed"] == "false"
    comment_step = r.step("Comment on the pull request")
    assert comment_step.outcome == "success" and comment_step.uses.startswith("actions/github-script@")
    body = Path(r.step_outputs["report"]["comment"]).read_text(encoding="utf-8")
    assert body.startswith("<!-- ismap-scan:pr-comment:ismap-scan -->\n")
    assert f"`{victim.resource_id}`" in body and "| new |" in body
    assert "1 resources are being created" in body
    other = [
        x
        for x in read_results(demo_scan.results)
        if x.verdict is Verdict.FAIL and x.resource_id != victim.resource_id
    ]
    assert (
        f"`{other[0].resource_id}`" not in body.split("<details>")[0]
    )  # only the touched resource's findings
    assert r.step("Upload SARIF to code scanning").outcome == "skipped"  # no alerts from PR scans


def test_pull_request_without_resources_comments_totals(demo_scan: DemoScan, tmp_path: Path) -> None:
    r = run(
        make_runner(tmp_path, demo_scan, "pull_request", PR_EVENT), demo_scan, baseline=str(demo_scan.results)
    )
    body = Path(r.step_outputs["report"]["comment"]).read_text(encoding="utf-8")
    assert "| PASS |" in body and "<!-- ismap-scan:pr-comment:" in body
    assert r.status == "success"


def test_invalid_inputs_stop_before_install_with_clear_messages(demo_scan: DemoScan, tmp_path: Path) -> None:
    r = run(
        make_runner(tmp_path, demo_scan, "push"),
        demo_scan,
        **{"fail-on": "hgih", "soft-fail": "maybe", "artifact-name": "a/b", "provider": "aws,nope"},
    )
    step = r.step("inputs")
    assert step.outcome == "failure" and step.returncode == 2
    assert (
        "input 'fail-on': expected one of critical, high, medium, low, info, none, got 'hgih'" in step.stdout
    )
    assert "input 'soft-fail': expected true or false" in step.stdout
    assert "input 'artifact-name': must not contain '/'" in step.stdout
    assert "input 'provider': unknown provider nope" in step.stdout
    assert all(s.outcome == "skipped" for s in r.steps[r.steps.index(step) + 1 :])
    assert r.status == "failure"


def test_role_arn_value_is_not_echoed_when_invalid(demo_scan: DemoScan, tmp_path: Path) -> None:
    r = run(
        make_runner(tmp_path, demo_scan, "push"), demo_scan, **{"role-arn": "arn:aws:iam::SECRETISH:user/x"}
    )
    assert "SECRETISH" not in r.log
    assert "input 'role-arn': expected an IAM role ARN" in r.log


def test_outputs_file_format_with_multiline_values(tmp_path: Path) -> None:
    from ghsim import parse_output_file

    from ismap_scan.ci.github import GitHubEnv

    out = tmp_path / "out"
    out.touch()
    GitHubEnv({"GITHUB_OUTPUT": str(out)}).set_outputs({"a": "1", "b": "x\ny", "c": None, "d": True})
    assert parse_output_file(out.read_text()) == {"a": "1", "b": "x\ny", "c": "", "d": "true"}
    assert re.search(r"^b<<ghadelimiter_[0-9a-f]{24}$", out.read_text(), re.M)
