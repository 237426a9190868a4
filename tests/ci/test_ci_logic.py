"""Unit tests of ismap_scan.ci: baseline compare, exit policy, touched resources, Markdown, inputs, GitHub env."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from ismap_scan.ci.baseline import compare, resolve_results_path
from ismap_scan.ci.github import GitHubEnv, escape_data, escape_property, format_output, truncate_utf8
from ismap_scan.ci.inputs import ActionInputs, parse_inputs, pip_extras, project_info
from ismap_scan.ci.markdown import COMMENT_MARKER, ScanInfo, comment_markdown, summary_markdown
from ismap_scan.ci.policy import decide
from ismap_scan.ci.touched import from_plan, load_touched
from ismap_scan.errors import InputError, InputErrors
from ismap_scan.model import Result, Severity, Verdict

REPO = Path(__file__).resolve().parents[2]


def res(check: str, rid: str, verdict: str = "FAIL", sev: str = "high", name: str = "") -> Result:
    return Result(
        check_id=check,
        verdict=Verdict(verdict),
        severity=Severity(sev),
        provider="aws",
        account="111122223333",
        region="ap-northeast-1",
        resource_type="aws.s3.bucket",
        resource_id=rid,
        resource_name=name or rid,
        collected_at="2026-11-30T01:02:03Z",
        title={"en": "Title " + check, "ja": "タイトル"},
    )


# ------------------------------------------------------------------------------------------ baseline compare


def test_compare_classifies_by_finding_key() -> None:
    base = [
        res("aws.s3.a", "arn:aws:s3:::still"),
        res("aws.s3.a", "arn:aws:s3:::fixed"),
        res("aws.s3.a", "arn:aws:s3:::gone"),
        res("aws.s3.a", "arn:aws:s3:::unknown"),
        res("aws.s3.a", "arn:aws:s3:::was-pass", "PASS"),
    ]
    cur = [
        res("aws.s3.a", "arn:aws:s3:::still"),
        res("aws.s3.a", "arn:aws:s3:::fixed", "PASS"),
        res("aws.s3.a", "arn:aws:s3:::unknown", "ERROR"),
        res("aws.s3.a", "arn:aws:s3:::was-pass", "FAIL", "low"),
        res("aws.s3.a", "arn:aws:s3:::brand-new", "FAIL", "critical"),
    ]
    c = compare(cur, base, "high")
    ids = lambda rs: [r.resource_id.rsplit(":", 1)[1] for r in rs]  # noqa: E731
    assert ids(c.new) == ["brand-new", "was-pass"]  # severity order: critical first
    assert ids(c.gating) == ["brand-new"]  # "low" is below fail-on high
    assert ids(c.still_failing) == ["still"]
    assert ids(c.fixed) == ["fixed"]
    assert ids(c.no_longer_seen) == ["gone"]
    assert ids(c.unknown) == ["unknown"]
    assert c.counts()["fail"] == 3 and c.counts()["error"] == 1 and c.counts()["total"] == 5


def test_compare_without_baseline_every_failure_is_new_and_none_never_gates() -> None:
    cur = [res("aws.s3.a", "arn:aws:s3:::x", sev="critical"), res("aws.s3.a", "arn:aws:s3:::y", "PASS")]
    c = compare(cur, None, "none")
    assert not c.baseline_used and len(c.new) == 1 and c.gating == []
    assert compare(cur, None, "info").gating == c.new
    with pytest.raises(ValueError):
        compare(cur, None, "severe")


def test_same_key_other_account_is_a_different_finding() -> None:
    a = res("aws.s3.a", "arn:aws:s3:::x")
    b = res("aws.s3.a", "arn:aws:s3:::x")
    b.account = "444455556666"
    assert len(compare([b], [a], "high").new) == 1


def test_resolve_results_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no results\.jsonl"):
        resolve_results_path(tmp_path)
    (tmp_path / "a" / "s1").mkdir(parents=True)
    f = tmp_path / "a" / "s1" / "results.jsonl"
    f.write_text("")
    assert resolve_results_path(tmp_path) == f  # a downloaded artifact keeps its folders
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "results.jsonl").write_text("")
    with pytest.raises(InputError, match="several"):
        resolve_results_path(tmp_path)


# ------------------------------------------------------------------------------------------ exit policy


@pytest.mark.parametrize(
    ("gating", "incomplete", "mode", "soft", "strict", "code", "fails"),
    [
        (True, False, "gate", False, False, 3, True),
        (True, True, "gate", False, False, 3, True),  # failures win over incompleteness (DESIGN §8)
        (True, False, "gate", True, False, 3, False),  # soft-fail
        (True, False, "comment", False, False, 3, False),  # pull requests only comment
        (False, True, "gate", False, False, 4, False),
        (False, True, "gate", False, True, 4, True),  # fail-on-incomplete
        (False, False, "gate", False, True, 0, False),
    ],
)
def test_exit_policy(
    gating: bool, incomplete: bool, mode: str, soft: bool, strict: bool, code: int, fails: bool
) -> None:
    cur = [res("aws.s3.a", "arn:aws:s3:::x", "FAIL" if gating else "PASS")]
    d = decide(
        compare(cur, [], "high"), mode=mode, soft_fail=soft, fail_on_incomplete=strict, incomplete=incomplete
    )
    assert (d.code, d.fail_step) == (code, fails)
    assert d.reason


def test_mode_auto_follows_the_event() -> None:
    i = ActionInputs()
    assert i.effective_mode("pull_request") == "comment"
    assert i.effective_mode("push") == "gate" and i.effective_mode("schedule") == "gate"
    i.mode = "gate"
    assert i.effective_mode("pull_request") == "gate"


# ------------------------------------------------------------------------------------------ touched resources


def test_plan_json_touched_resources(tmp_path: Path) -> None:
    plan = {
        "format_version": "1.2",
        "resource_changes": [
            {
                "address": "a.upd",
                "change": {"actions": ["update"], "before": {"arn": "arn:1"}, "after": {"arn": "arn:1"}},
            },
            {
                "address": "a.del",
                "change": {"actions": ["delete"], "before": {"arn": "arn:2"}, "after": None},
            },
            {"address": "a.new", "change": {"actions": ["create"], "before": None, "after": {"bucket": "b"}}},
            {
                "address": "a.same",
                "change": {"actions": ["no-op"], "before": {"arn": "arn:3"}, "after": {"arn": "arn:3"}},
            },
            {"address": "d.read", "change": {"actions": ["read"], "before": None, "after": {"arn": "arn:4"}}},
        ],
    }
    t = from_plan(plan)
    assert t.ids == {"arn:1", "arn:2"} and t.unidentified == ["a.new"]
    f = tmp_path / "plan.json"
    f.write_text(json.dumps(plan))
    assert load_touched(f).ids == {"arn:1", "arn:2"}
    lst = tmp_path / "ids.txt"
    lst.write_text("# changed\narn:aws:s3:::x\n\narn:aws:s3:::y  # note\n")
    assert load_touched(lst).ids == {"arn:aws:s3:::x", "arn:aws:s3:::y"}
    bad = tmp_path / "bad.json"
    bad.write_text('{"foo": 1}')
    with pytest.raises(InputError, match="terraform show -json"):
        load_touched(bad)


# ------------------------------------------------------------------------------------------ Markdown


def test_markdown_escapes_cloud_text_and_fits_limits() -> None:
    evil = res("aws.iam.a", "arn:aws:iam::111122223333:user/@octocat", name="<img src=x> @team")
    evil.title = {"en": "<script>alert(1)</script> | pipe", "ja": ""}
    c = compare([evil], None, "high")
    d = decide(c, mode="comment")
    body = comment_markdown(c, d, ScanInfo(scan_id="s1"), name="job")
    assert body.startswith(COMMENT_MARKER.format(name="job"))
    assert "<script>" not in body and "\\<script\\>" in body
    assert "`arn:aws:iam::111122223333:user/@octocat`" in body  # in a code span: no mention
    many = [res("aws.s3.a", f"arn:aws:s3:::bucket-{i:05d}-" + "x" * 150) for i in range(3000)]
    c2 = compare(many, None, "high")
    d2 = decide(c2, mode="gate")
    assert len(comment_markdown(c2, d2, ScanInfo())) < 65_536
    summary = summary_markdown(c2, d2, ScanInfo())
    assert "…and " in summary and len(summary.encode()) < 1024 * 1024


def test_summary_lists_new_failures_and_control_states() -> None:
    base = [res("aws.s3.a", "arn:aws:s3:::old")]
    cur = [res("aws.s3.a", "arn:aws:s3:::old"), res("aws.s3.b", "arn:aws:s3:::new", sev="medium")]
    info = ScanInfo.from_files(
        {
            "scan_id": "20261130T000000Z-abc",
            "scope": {"accounts": {"aws": ["111122223333"]}},
            "check_pack": {"checks": 2},
        },
        {"controls": [{"status": "NON_COMPLIANT"}, {"status": "COMPLIANT"}, {"status": "COMPLIANT"}]},
    )
    info.baseline_label = "`base.jsonl`"
    c = compare(cur, base, "medium")
    text = summary_markdown(c, decide(c, mode="gate"), info)
    assert "1 new failure at or above medium since the baseline" in text
    assert "`arn:aws:s3:::new`" in text and "`arn:aws:s3:::old`" not in text.split("Still failing")[0]
    assert "| COMPLIANT | 2 |" in text and "| NON\\_COMPLIANT | 1 |" in text
    assert "Baseline: `base.jsonl`" in text


# ------------------------------------------------------------------------------------------ inputs


def test_inputs_defaults_and_normalisation(tmp_path: Path) -> None:
    env = {
        "INPUT_PROVIDER": " aws ",
        "INPUT_FORMAT": "md,csv",
        "INPUT_FAIL_ON": "HIGH",
        "RUNNER_TEMP": str(tmp_path),
    }
    i = parse_inputs(env, cwd=tmp_path)
    assert i.providers == ["aws"] and i.fail_on == "high"
    assert i.formats == ["jsonl", "md", "csv", "sarif"]  # jsonl and sarif are needed by later steps
    assert i.output_dir == tmp_path / "ismap-scan-out"
    assert ActionInputs.from_dict(json.loads(json.dumps(i.to_dict()))) == i


def test_inputs_report_every_problem(tmp_path: Path) -> None:
    env = {
        "INPUT_FAIL_ON": "hgih",
        "INPUT_CONFIG": "missing.yaml",
        "INPUT_REGIONS": "ap-northeast-1,bad region",
        "INPUT_MODE": "always",
        "INPUT_SCAN_DIR": str(tmp_path),
    }
    with pytest.raises(InputErrors) as exc:
        parse_inputs(env, cwd=tmp_path)
    text = str(exc.value)
    for expected in (
        "input 'fail-on'",
        "input 'config': file not found: missing.yaml",
        "input 'regions': 'bad region' is not a region name",
        "input 'mode'",
        "input 'scan-dir': no results.jsonl",
    ):
        assert expected in text


def test_pip_extras_come_from_pyproject() -> None:
    info = project_info(REPO)
    assert "aws" in info.providers and "aws" in info.extras
    i = ActionInputs(providers=["aws"], demo=True, bundle=False)
    assert pip_extras(i, info.extras) == ["aws", "demo"]
    assert pip_extras(ActionInputs(bundle=True), ("aws",)) == ["aws"]  # undeclared extras are never named


def test_inputs_main_writes_extras_and_inputs_file(tmp_path: Path) -> None:
    from ismap_scan.ci.inputs import load_inputs_file, main

    out = tmp_path / "out"
    out.touch()
    env = {
        "GITHUB_OUTPUT": str(out),
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_ACTION_PATH": str(REPO),
        "INPUT_DEMO": "true",
    }
    assert main(env) == 0
    text = out.read_text()
    assert "extras=aws,demo" in text
    path = Path(text.split("inputs-file=")[1].strip())
    assert load_inputs_file(path).demo is True


# ------------------------------------------------------------------------------------------ GitHub env


def test_workflow_command_escaping_and_stop_commands() -> None:
    assert escape_data("50%\r\nx") == "50%25%0D%0Ax"
    assert escape_property("a:b,c") == "a%3Ab%2Cc"
    buf = io.StringIO()
    gh = GitHubEnv({"GITHUB_ACTIONS": "true"}, stream=buf)
    gh.error("bad\n::add-mask::x", title="t:1")
    with gh.commands_stopped():
        print("::error::from the child", file=buf)
    lines = buf.getvalue().splitlines()
    assert lines[0] == "::error title=t%3A1::bad%0A::add-mask::x"
    token = lines[1].removeprefix("::stop-commands::")
    assert len(token) == 32 and lines[-1] == f"::{token}::"


def test_format_output_rejects_bad_names_and_summary_truncates(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        format_output("a=b", "x")
    assert truncate_utf8("é" * 10, 100, "!") == "é" * 10
    assert truncate_utf8("line1\nline2\n" * 50, 30, "[cut]").endswith("\n[cut]")
    summary = tmp_path / "s.md"
    gh = GitHubEnv(
        {
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(tmp_path / "none"),
        }
    )
    gh.append_summary("# hi")
    assert summary.read_text() == "# hi\n"
    assert gh.pull_request_number() is None and gh.event() == {}
