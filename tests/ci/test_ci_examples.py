"""The example workflows in examples/workflows/: valid against the GitHub workflow schema, and each one's steps run
in the simulated runner. Its ``run:`` steps that call ismap-scan execute, the step that uses this action runs
the action's own steps (with ``scan-dir`` set to the session's demo scan instead of a live scan), other ``uses:``
steps and non-ismap-scan commands (terraform, gh) are skipped; what they would leave behind (a restored cache,
a downloaded artifact, a plan JSON) is put in place by the test."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ci_support import REPO, DemoScan, clean_env
from ghsim import Run, Runner, load_yaml, run_action
from test_ci_action import INSTALL, PR_EVENT, one_new_failure_baseline

from ismap_scan.model import Verdict
from ismap_scan.reports import read_results

EXAMPLES = sorted((REPO / "examples" / "workflows").glob("*.yml"))


def test_there_are_three_examples_and_the_readme_links_each() -> None:
    assert {p.name for p in EXAMPLES} == {"nightly.yml", "after-apply.yml", "pull-request.yml"}
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for p in EXAMPLES:
        assert f"(examples/workflows/{p.name})" in readme


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_is_a_valid_workflow(path: Path) -> None:
    schema = json.loads((REPO / "tests" / "schemas" / "github-workflows.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(load_yaml(path))
    for job in load_yaml(path)["jobs"].values():
        for step in job["steps"]:
            if "run" in step:
                assert "${{" not in step["run"], step.get("name")


def is_our_action(uses: str) -> bool:
    return uses.startswith("OWNER/ismap-scan@") or uses in ("./", ".")


def run_job(
    path: Path,
    job: str,
    runner: Runner,
    scan: DemoScan,
    overrides: dict[str, str] | None = None,
) -> Run:
    wf = load_yaml(path)
    spec = wf["jobs"][job]

    def expand(step: dict[str, Any], with_: dict[str, str]) -> Run | None:
        if not is_our_action(str(step["uses"])):
            return None
        inputs = {**with_, "scan-dir": str(scan.folder), "python-version": "", **(overrides or {})}
        inputs.pop("config", None)  # the demo scan folder replaces the live scan the config would describe
        return run_action(runner, inputs, INSTALL)

    def only_ismap_scan(step: dict[str, Any]) -> bool:
        return "ismap-scan" in str(step["run"])

    return runner.run_steps(
        spec["steps"], expand_action=expand, only_run=only_ismap_scan, job_env=spec.get("env") or {}
    )


def workspace_runner(tmp: Path, scan: DemoScan, event_name: str, event: dict[str, Any]) -> Runner:
    ws = tmp / "ws"
    ws.mkdir()
    return Runner(ws, event_name, event, base_env=clean_env(scan.data_dir, tmp))


def test_nightly_keeps_the_store_and_uploads_the_bundle(demo_scan: DemoScan, tmp_path: Path) -> None:
    runner = workspace_runner(tmp_path, demo_scan, "schedule", {"schedule": "0 18 * * *"})
    # What the restore-cache and download-artifact steps leave behind: the store and last night's results.
    shutil.copytree(demo_scan.data_dir, runner.workspace / ".ismap-scan-data")
    (runner.temp / "baseline" / demo_scan.folder.name).mkdir(parents=True)
    shutil.copy(demo_scan.results, runner.temp / "baseline" / demo_scan.folder.name / "results.jsonl")
    r = run_job(REPO / "examples/workflows/nightly.yml", "scan", runner, demo_scan)
    assert r.status == "success", r.log
    assert r.step("Restore the evidence store").uses == "actions/cache@v4"
    bundle = r.step_outputs["ismap"]["bundle"]
    assert bundle.endswith(".evidence.zip") and Path(bundle).is_file(), r.log
    upload = r.step("Upload reports and evidence")
    assert upload.with_["name"] == "ismap-scan-nightly" and bundle in upload.with_["path"]
    verify = r.step("Verify the evidence chain")
    assert verify.kind == "run" and verify.returncode == 0, verify.stdout + verify.stderr
    assert "New failures since the baseline: none" in r.summary


def test_after_apply_fails_on_a_new_failure_and_still_reports(demo_scan: DemoScan, tmp_path: Path) -> None:
    runner = workspace_runner(tmp_path, demo_scan, "push", {"ref": "refs/heads/main"})
    baseline, victim = one_new_failure_baseline(demo_scan, runner.temp)
    assert baseline.parent == runner.temp / "baseline"  # where the download step puts it
    wf = REPO / "examples/workflows/after-apply.yml"
    assert not any("ismap-scan" in str(s.get("run", "")) for s in load_yaml(wf)["jobs"]["apply"]["steps"])
    r = run_job(wf, "scan", runner, demo_scan, {"bundle": "false"})
    assert r.status == "failure"
    assert r.step("Gate").returncode == 3
    assert victim.resource_id in r.summary
    step = r.step("New failures, as JSON for other tools")
    assert step.kind == "run" and step.returncode == 0, step.stderr
    doc = json.loads((runner.temp / "new-failures.json").read_text(encoding="utf-8"))
    assert [g["resource_id"] for g in doc["gating"]] == [victim.resource_id]


def test_pull_request_comments_with_the_plan(demo_scan: DemoScan, tmp_path: Path) -> None:
    runner = workspace_runner(tmp_path, demo_scan, "pull_request", PR_EVENT)
    failing = next(x for x in read_results(demo_scan.results) if x.verdict is Verdict.FAIL)
    plan = {
        "format_version": "1.2",
        "resource_changes": [
            {
                "address": "x.y",
                "change": {
                    "actions": ["update"],
                    "before": {"arn": failing.resource_id},
                    "after": {"arn": failing.resource_id},
                },
            }
        ],
    }
    (runner.workspace / "infra").mkdir()
    (runner.workspace / "infra" / "plan.json").write_text(
        json.dumps(plan), encoding="utf-8"
    )  # terraform show -json
    r = run_job(
        REPO / "examples/workflows/pull-request.yml", "comment", runner, demo_scan, {"bundle": "false"}
    )
    assert r.status == "success", r.log  # never fails a pull request
    assert r.step("terraform plan (JSON)").kind == "skipped"
    comment = r.step("Comment on the pull request")
    assert comment.outcome == "success"
    body = Path(r.children[0].step_outputs["report"]["comment"]).read_text(encoding="utf-8")
    assert body.startswith("<!-- ismap-scan:pr-comment:ismap-scan-pr -->")
    assert f"`{failing.resource_id}`" in body and "terraform plan" in body
