"""Python checks: entry-point loading, provenance, joins through ``ctx``, and ERROR on misbehaviour."""

from __future__ import annotations

import hashlib
import textwrap
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

import ismap_scan.pychecks.aws.cloudtrail as cloudtrail_module
import ismap_scan.pychecks.aws.iam as iam_module
from ismap_scan.engine import CheckContext, CheckMeta, PythonCheck, evaluate, load_checks
from ismap_scan.errors import InputErrors
from ismap_scan.model import Resource, Severity, Verdict
from ismap_scan.pychecks.aws.iam import admin_statement

TEXT = {"en": "t", "ja": "t"}


def _meta(check_id: str, **kwargs: object) -> CheckMeta:
    return CheckMeta(
        id=check_id, resource="aws.iam.user", severity=Severity.LOW, title=TEXT, remediation=TEXT, **kwargs
    )  # type: ignore[arg-type]


class CountsGroups(PythonCheck):
    """PASS when the user's account has at least ``$min_groups`` group records (a join)."""

    meta = _meta(
        "aws.iam.user_sample_join",
        joins=("aws.iam.group",),
        params={"min_groups": 1},
        needs=("data.GroupList",),
        evidence=("data.UserName",),
    )

    def applies(self, resource: Resource, ctx: CheckContext) -> bool:
        return resource.name != "robot"

    def evaluate(self, resource: Resource, ctx: CheckContext) -> tuple[Verdict, str]:
        groups = ctx.records("aws.iam.group", resource.account)
        ok = len(groups) >= ctx.params["min_groups"]
        return (Verdict.PASS if ok else Verdict.FAIL), f"{len(groups)} group(s)"


class Raises(PythonCheck):
    meta = _meta("aws.iam.user_sample_raises")

    def evaluate(self, resource: Resource, ctx: CheckContext) -> tuple[Verdict, str]:
        raise KeyError("UserName")


class ReturnsJunk(PythonCheck):
    meta = _meta("aws.iam.user_sample_junk")

    def evaluate(self, resource: Resource, ctx: CheckContext) -> tuple[Verdict, str]:
        return "PASS"  # type: ignore[return-value]


class UndeclaredJoin(PythonCheck):
    meta = _meta("aws.iam.user_sample_undeclared_join")

    def evaluate(self, resource: Resource, ctx: CheckContext) -> tuple[Verdict, str]:
        ctx.records("aws.iam.policy")
        return Verdict.PASS, ""


class BadMeta(PythonCheck):
    meta = CheckMeta(
        id="aws.iam.user_bad_meta",
        resource="aws.iam.user",
        severity="urgent",
        title={"en": "only"},
        remediation=TEXT,
    )


class NotACheck:
    meta = _meta("aws.iam.user_not_a_check")


def ep(name: str, attr: str) -> EntryPoint:
    return EntryPoint(name=name, value=f"{__name__}:{attr}", group="ismap_scan.checks")


def user(name: str, account: str = "111122223333", **data: object) -> Resource:
    return Resource(
        "aws",
        account,
        "global",
        "aws.iam.user",
        f"arn:aws:iam::{account}:user/{name}",
        name,
        "2026-11-30T00:00:00Z",
        {"UserName": name, "GroupList": [], **data},
    )


def group(name: str, account: str = "111122223333") -> Resource:
    return Resource(
        "aws",
        account,
        "global",
        "aws.iam.group",
        f"arn:aws:iam::{account}:group/{name}",
        name,
        "2026-11-30T00:00:00Z",
        {"GroupName": name},
    )


def load_samples(*names: str, tmp_path: Path | None = None, **kwargs: object):  # type: ignore[no-untyped-def]
    dirs = [tmp_path] if tmp_path else []
    return load_checks(dirs, python_entry_points=[ep(n.lower(), n) for n in names], **kwargs)  # type: ignore[arg-type]


def test_join_params_applies_and_evidence() -> None:
    checks = load_samples("CountsGroups")
    records = [user("alice"), user("robot"), user("bob", account="444455556666"), group("devs")]
    results = {r.resource_id: r for r in evaluate(records, checks)}
    alice = results["arn:aws:iam::111122223333:user/alice"]
    assert (alice.verdict, alice.message, alice.evidence) == (
        Verdict.PASS,
        "1 group(s)",
        {"data.UserName": "alice"},
    )
    assert results["arn:aws:iam::111122223333:user/robot"].verdict is Verdict.NOT_APPLICABLE
    assert results["arn:aws:iam::444455556666:user/bob"].verdict is Verdict.FAIL
    assert checks.resource_types() == {"aws.iam.user", "aws.iam.group"}

    stricter = load_samples("CountsGroups", params={"aws.iam.user_sample_join": {"min_groups": 2}})
    assert evaluate([user("alice"), group("devs")], stricter)[0].verdict is Verdict.FAIL


def test_needs_apply_to_python_checks() -> None:
    from ismap_scan.model import CollectionError

    broken = user("carol")
    broken.errors.append(
        CollectionError("GroupList", "iam:GetAccountAuthorizationDetails", "AccessDenied", "")
    )
    (result,) = evaluate([broken], load_samples("CountsGroups"))
    assert result.verdict is Verdict.ERROR
    assert "data.GroupList unknown: iam:GetAccountAuthorizationDetails AccessDenied" in result.message


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Raises", "check aws.iam.user_sample_raises: KeyError: 'UserName'"),
        (
            "ReturnsJunk",
            "check aws.iam.user_sample_junk: evaluate() returned 'PASS', expected (Verdict, str)",
        ),
        (
            "UndeclaredJoin",
            "check aws.iam.user_sample_undeclared_join: LookupError: resource type 'aws.iam.policy' is not "
            "declared in the check's meta.joins",
        ),
    ],
)
def test_misbehaving_python_check_gives_error(name: str, message: str) -> None:
    (result,) = evaluate([user("alice")], load_samples(name))
    assert (result.verdict, result.message) == (Verdict.ERROR, message)


def test_invalid_entry_points_are_reported() -> None:
    eps = [
        ep("bad_meta", "BadMeta"),
        ep("not_a_check", "NotACheck"),
        EntryPoint(name="missing", value="ismap_scan.pychecks.aws.nope:Gone", group="ismap_scan.checks"),
    ]
    with pytest.raises(InputErrors) as info:
        load_checks([], python_entry_points=eps)
    errors = [str(e) for e in info.value.errors]
    assert errors[0].startswith(
        "entry point missing = ismap_scan.pychecks.aws.nope:Gone: cannot import: ModuleNotFoundError"
    )
    assert errors[1] == f"entry point not_a_check = {__name__}:NotACheck: not a PythonCheck subclass"
    line = _class_line("class BadMeta")
    assert errors[2] == (
        f"{__file__}:{line}: check aws.iam.user_bad_meta: meta.severity: Input should be 'critical', 'high', "
        "'medium', 'low' or 'info'"
    )
    assert errors[3] == f"{__file__}:{line}: check aws.iam.user_bad_meta: meta.title.ja: Field required"


def _class_line(prefix: str) -> int:
    lines = Path(__file__).read_text(encoding="utf-8").splitlines()
    return next(i for i, text in enumerate(lines, 1) if text.startswith(prefix))


def test_python_and_yaml_ids_share_one_space(tmp_path: Path) -> None:
    (tmp_path / "aws").mkdir()
    yaml_file = tmp_path / "aws" / "iam.yaml"
    yaml_file.write_text(
        textwrap.dedent(
            """\
            - id: aws.iam.user_sample_raises
              resource: aws.iam.user
              severity: low
              title: {en: t, ja: t}
              assert: "`true`"
              remediation: {en: r, ja: r}
            """
        ),
        encoding="utf-8",
    )
    with pytest.raises(InputErrors) as info:
        load_samples("Raises", tmp_path=tmp_path)
    assert [str(e) for e in info.value.errors] == [
        f"{__file__}:{_class_line('class Raises')}: check aws.iam.user_sample_raises: duplicate check ID "
        f"(first defined at {yaml_file}:1)"
    ]


def test_bundled_python_checks_record_package_version_and_source_hash() -> None:
    checks = load_checks()
    info = {i["check_id"]: i for i in checks.python_check_info()}
    assert {"aws.iam.user_no_admin_privileges", "aws.cloudtrail.multi_region_trail_logging"} <= set(info)
    assert all(i["package"] == "ismap-scan" and len(i["source_sha256"]) == 64 for i in info.values())
    for check_id, module in (
        ("aws.iam.user_no_admin_privileges", iam_module),
        ("aws.cloudtrail.multi_region_trail_logging", cloudtrail_module),
    ):
        assert info[check_id]["package"] == "ismap-scan"
        assert info[check_id]["version"]
        assert info[check_id]["module"] == module.__name__
        assert (
            info[check_id]["source_sha256"] == hashlib.sha256(Path(module.__file__).read_bytes()).hexdigest()
        )
        check = checks.get(check_id)
        assert check is not None and check.kind == "python"
        assert check.title["ja"] and check.rationale and check.remediation["en"]
    assert checks.select(services=["iam"]).python_check_info() == [info["aws.iam.user_no_admin_privileges"]]
    assert load_checks(include_python=False).get("aws.iam.user_no_admin_privileges") is None


@pytest.mark.parametrize(
    ("document", "admin"),
    [
        ({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}, True),
        ({"Statement": [{"Effect": "Allow", "Action": ["s3:*", "*:*"], "Resource": ["arn:x", "*"]}]}, True),
        ({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b/*"}]}, False),
        ({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}, False),
        ({"Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]}, False),
        ({"Statement": [{"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::b"}]}, True),
        ({"Statement": [{"Effect": "Allow", "NotAction": ["s3:*"], "Resource": "*"}]}, True),
        (
            {"Statement": [{"Effect": "Allow", "NotAction": ["IAM:*", "organizations:*"], "Resource": "*"}]},
            False,
        ),
        ({"Statement": [{"Effect": "Allow", "NotAction": "iam:Get*", "Resource": "*"}]}, True),
        ({"Statement": [{"Effect": "Allow", "NotAction": "s3:*", "Resource": "arn:aws:s3:::b"}]}, False),
        (None, False),
        ({"Version": "2012-10-17"}, False),
    ],
)
def test_admin_statement_rules(document: object, admin: bool) -> None:
    assert (admin_statement(document) is not None) is admin
