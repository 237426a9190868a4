"""Loading checks: every validation rule, with the exact ``file:line: check <id>: ...`` it reports."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ismap_scan.engine import load_checks
from ismap_scan.errors import InputError, InputErrors
from ismap_scan.model import Resource, Severity, Verdict
from ismap_scan.yamlutil import load_yaml

GOOD = """\
- id: aws.s3.bucket_versioning_enabled
  resource: aws.s3.bucket
  severity: medium
  title: {en: Versioning is enabled, ja: バージョニングが有効}
  needs: [data.Versioning]
  evidence: [data.Versioning.Status]
  assert: "data.Versioning.Status == 'Enabled'"
  remediation: {en: Enable versioning., ja: バージョニングを有効化する。, url: "https://example.com/doc"}
- id: aws.s3.bucket_name_short
  resource: aws.s3.bucket
  severity: low
  title: {en: Short name, ja: 短い名前}
  applies: "data.Name != null"
  assert: "length(data.Name) <= $max_length"
  params: {max_length: 10}
  remediation: {en: Rename., ja: 名前を変更する。}
"""

ONE = """\
- id: aws.s3.{tail}
  resource: aws.s3.bucket
  severity: low
  title: {{en: T, ja: T}}
  assert: "{expr}"
  remediation: {{en: R, ja: R}}
"""


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_errors(root: Path, **kwargs: object) -> list[str]:
    with pytest.raises(InputErrors) as info:
        load_checks([root], include_python=False, **kwargs)  # type: ignore[arg-type]
    return [str(e) for e in info.value.errors]


def bucket(name: str, collected_at: str = "2026-11-30T00:00:00Z") -> Resource:
    return Resource(
        provider="aws",
        account="111122223333",
        region="ap-northeast-1",
        type="aws.s3.bucket",
        id=f"arn:aws:s3:::{name}",
        name=name,
        collected_at=collected_at,
        data={"Name": name},
    )


def test_good_file_loads_in_id_order_with_metadata(tmp_path: Path) -> None:
    write(tmp_path, "aws/s3.yaml", GOOD)
    checks = load_checks([tmp_path], include_python=False, known_types={"aws.s3.bucket"})
    assert checks.ids() == ["aws.s3.bucket_name_short", "aws.s3.bucket_versioning_enabled"]
    assert [c.id for c in checks] == checks.ids()
    check = checks.get("aws.s3.bucket_versioning_enabled")
    assert check is not None
    assert check.severity is Severity.MEDIUM
    assert check.title == {"en": "Versioning is enabled", "ja": "バージョニングが有効"}
    assert check.remediation["url"] == "https://example.com/doc"
    assert [n.path for n in check.needs] == ["data.Versioning"]
    assert check.line == 1 and check.source.endswith("s3.yaml")
    assert checks.get("aws.s3.nope") is None
    assert checks.resource_types() == {"aws.s3.bucket"}
    assert checks.get("aws.s3.bucket_name_short").params == {"max_length": 10}  # type: ignore[union-attr]


def test_id_must_match_file_provider_and_service(tmp_path: Path) -> None:
    path = write(
        tmp_path, "aws/s3.yaml", ONE.format(tail="x", expr="`true`").replace("aws.s3.x", "aws.ec2.x")
    )
    assert load_errors(tmp_path) == [
        f"{path}:1: check aws.ec2.x: id: must start with aws.s3. to live in this file"
    ]


def test_file_outside_provider_service_layout(tmp_path: Path) -> None:
    path = write(tmp_path, "aws/s3/extra.yaml", ONE.format(tail="x", expr="`true`"))
    assert load_errors(tmp_path) == [f"{path}: check files live at <provider>/<service>.yaml"]


def test_file_must_hold_a_list(tmp_path: Path) -> None:
    path = write(tmp_path, "aws/s3.yaml", "id: aws.s3.x\n")
    assert load_errors(tmp_path) == [f"{path}:1: expected a YAML list of checks"]


def test_duplicate_ids_within_a_file_and_across_folders(tmp_path: Path) -> None:
    one = write(tmp_path / "a", "aws/s3.yaml", ONE.format(tail="x", expr="`true`") * 2)
    two = write(tmp_path / "b", "aws/s3.yaml", ONE.format(tail="x", expr="`true`"))
    with pytest.raises(InputErrors) as info:
        load_checks([tmp_path / "a", tmp_path / "b"], include_python=False)
    assert [str(e) for e in info.value.errors] == [
        f"{one}:7: check aws.s3.x: duplicate check ID (first defined at {one}:1)",
        f"{two}:1: check aws.s3.x: duplicate check ID (first defined at {one}:1)",
    ]


def test_schema_errors_name_key_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "aws/s3.yaml",
        """\
        - id: aws.s3.x
          resource: aws.s3.bucket
          severity: urgent
          title: {en: Only English}
          assert: "`true`"
          remediation: {ja: 日本語だけ}
          colour: blue
        """,
    )
    assert load_errors(tmp_path) == [
        f"{path}:3: check aws.s3.x: severity: Input should be 'critical', 'high', 'medium', 'low' or 'info'",
        f"{path}:4: check aws.s3.x: title.ja: Field required",
        f"{path}:6: check aws.s3.x: remediation.en: Field required",
        f"{path}:7: check aws.s3.x: colour: unknown key",
    ]


def test_bad_id_and_needs_paths(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "aws/s3.yaml",
        """\
        - id: aws.s3.Bad-Name
          resource: aws.s3.bucket
          severity: low
          title: {en: T, ja: T}
          needs: [data.Policy, resource.id]
          assert: "`true`"
          remediation: {en: R, ja: R}
        """,
    )
    errors = load_errors(tmp_path)
    assert errors[0].startswith(f"{path}:1: check aws.s3.Bad-Name: id: String should match pattern")
    assert errors[1] == (
        f"{path}:5: check aws.s3.Bad-Name: needs[1]: needs path 'resource.id' must be "
        "data.<Field>, account.<Field> or region.<Field> (dotted names)"
    )


def test_jmespath_syntax_error_reported_at_expression_line(tmp_path: Path) -> None:
    path = write(tmp_path, "aws/s3.yaml", ONE.format(tail="x", expr="data.Name == "))
    assert load_errors(tmp_path) == [
        f"{path}:5: check aws.s3.x: assert: invalid JMESPath: incomplete expression (ends at column 13)"
    ]


def test_unknown_function_and_wrong_arity_refused_at_load(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "aws/s3.yaml",
        ONE.format(tail="x", expr="no_such(data)") + ONE.format(tail="y", expr="port_in(`1`, `2`)"),
    )
    errors = load_errors(tmp_path)
    assert errors[0].startswith(f"{path}:5: check aws.s3.x: assert: unknown function no_such() (known: abs, ")
    assert errors[1] == f"{path}:11: check aws.s3.y: assert: function port_in() takes 3 argument(s), got 2"


def test_params_undeclared_and_unused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "aws/s3.yaml",
        """\
        - id: aws.s3.x
          resource: aws.s3.bucket
          severity: low
          title: {en: T, ja: T}
          applies: "length(data.Name) > $min"
          assert: "length(data.Name) < $max"
          params:
            max: 10
            spare: 1
          remediation: {en: R, ja: R}
        """,
    )
    assert load_errors(tmp_path) == [
        f"{path}:5: check aws.s3.x: applies: $min used but not declared in params",
        f"{path}:9: check aws.s3.x: params.spare: declared but not used in applies or assert",
    ]


def test_unknown_resource_type_with_suggestion(tmp_path: Path) -> None:
    path = write(
        tmp_path, "aws/s3.yaml", ONE.format(tail="x", expr="`true`").replace("aws.s3.bucket", "aws.s3.buckt")
    )
    assert load_errors(tmp_path, known_types={"aws.s3.bucket", "aws.account"}) == [
        f"{path}:2: check aws.s3.x: resource: unknown resource type 'aws.s3.buckt': no provider declares it "
        "(did you mean aws.s3.bucket?)"
    ]


def test_resource_type_of_another_provider(tmp_path: Path) -> None:
    path = write(
        tmp_path, "aws/s3.yaml", ONE.format(tail="x", expr="`true`").replace("aws.s3.bucket", "gcp.bucket")
    )
    assert load_errors(tmp_path) == [
        f"{path}:2: check aws.s3.x: resource: resource type 'gcp.bucket' is not a aws type"
    ]


def test_all_problems_of_a_load_are_reported_together(tmp_path: Path) -> None:
    write(tmp_path, "aws/s3.yaml", ONE.format(tail="x", expr="a ==") + ONE.format(tail="y", expr="$nope"))
    write(tmp_path, "aws/ec2.yaml", ONE.format(tail="z", expr="`true`"))
    errors = load_errors(tmp_path)
    assert len(errors) == 3
    assert "check aws.s3.z: id: must start with aws.ec2." in errors[0]
    assert "check aws.s3.x: assert: invalid JMESPath" in errors[1]
    assert "check aws.s3.y: assert: $nope used but not declared" in errors[2]


def test_schema_failure_still_reports_prefix_type_and_syntax(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "aws/s3.yaml",
        """\
        - id: aws.ec2.x
          resource: aws.s3.buckt
          severity: low
          title: {en: T}
          assert: "foo(bar"
          remediation: {en: R, ja: R}
        """,
    )
    assert load_errors(tmp_path, known_types={"aws.s3.bucket"}) == [
        f"{path}:4: check aws.ec2.x: title.ja: Field required",
        f"{path}:1: check aws.ec2.x: id: must start with aws.s3. to live in this file",
        f"{path}:2: check aws.ec2.x: resource: unknown resource type 'aws.s3.buckt': no provider declares it "
        "(did you mean aws.s3.bucket?)",
        f"{path}:5: check aws.ec2.x: assert: invalid JMESPath: incomplete expression (ends at column 7)",
    ]


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    path = write(tmp_path, "aws/s3.yaml", "- id: aws.s3.x\n  title: [unclosed\n")
    errors = load_errors(tmp_path)
    assert len(errors) == 1 and errors[0].startswith(f"{path}:3: invalid YAML")


def test_param_overrides_validated_with_config_lines(tmp_path: Path) -> None:
    write(tmp_path / "checks", "aws/s3.yaml", GOOD)
    config = tmp_path / "ismap-scan.yaml"
    config.write_text(
        textwrap.dedent(
            """\
            params:
              aws.s3.bucket_name_short:
                max_length: "12"
                colour: red
              aws.s3.bucket_nmae_short:
                max_length: 12
            """
        ),
        encoding="utf-8",
    )
    params = load_yaml(config)["params"]
    errors = load_errors(tmp_path / "checks", params=params, params_file=config)
    check = "check aws.s3.bucket_name_short"
    assert errors == [
        f"{config}:3: {check}: params.max_length: expected a number like the default 10, got string",
        f"{config}:4: {check}: params: unknown param 'colour' (declared: max_length)",
        f"{config}:5: check aws.s3.bucket_nmae_short: params: unknown check (did you mean {check[6:]}?)",
    ]


def test_param_override_array_items_keep_their_type(tmp_path: Path) -> None:
    write(
        tmp_path,
        "aws/s3.yaml",
        ONE.format(tail="x", expr="contains($names, data.Name)").replace(
            "  remediation:", "  params: {names: [a, b]}\n  remediation:"
        ),
    )
    errors = load_errors(tmp_path, params={"aws.s3.x": {"names": [1]}})
    assert errors == ['check aws.s3.x: params.names: expected an array of strings like the default ["a","b"]']


def test_param_override_changes_the_verdict(tmp_path: Path) -> None:
    from ismap_scan.engine import evaluate

    write(tmp_path, "aws/s3.yaml", GOOD)
    records = [bucket("a-rather-long-name")]
    default = load_checks([tmp_path], include_python=False).select(ids=["aws.s3.bucket_name_short"])
    loose = load_checks(
        [tmp_path], include_python=False, params={"aws.s3.bucket_name_short": {"max_length": 40}}
    )
    assert [r.verdict for r in evaluate(records, default)] == [Verdict.FAIL]
    assert [r.verdict for r in evaluate(records, loose.select(ids=["aws.s3.bucket_name_short"]))] == [
        Verdict.PASS
    ]
    assert loose.get("aws.s3.bucket_name_short").defaults == {"max_length": 10}  # type: ignore[union-attr]


def test_missing_folder(tmp_path: Path) -> None:
    assert load_errors(tmp_path / "nope") == [f"{tmp_path / 'nope'}: checks folder not found"]


def test_select_filters_and_refuses_unknown_names(tmp_path: Path) -> None:
    write(tmp_path, "aws/s3.yaml", GOOD)
    write(tmp_path, "aws/ec2.yaml", ONE.format(tail="x", expr="`true`").replace("aws.s3.", "aws.ec2."))
    checks = load_checks([tmp_path], include_python=False)
    assert checks.select(services=["s3"]).ids() == [
        "aws.s3.bucket_name_short",
        "aws.s3.bucket_versioning_enabled",
    ]
    assert checks.select(services=["aws.ec2"]).ids() == ["aws.ec2.x"]
    assert checks.select(severities=["medium"]).ids() == ["aws.s3.bucket_versioning_enabled"]
    assert checks.select(providers=["aws"], severities=[Severity.LOW], services=["s3"]).ids() == [
        "aws.s3.bucket_name_short"
    ]
    assert len(checks.select()) == 3
    with pytest.raises(InputErrors) as info:
        checks.select(
            ids=["aws.s3.bucket_versioning_enable", "aws.ec2.x"], services=["rds"], severities=["urgent"]
        )
    assert [str(e) for e in info.value.errors] == [
        "check aws.s3.bucket_versioning_enable: unknown check ID "
        "(did you mean aws.s3.bucket_versioning_enabled?)",
        "unknown service 'rds'",
        "unknown severity 'urgent' (expected one of critical, high, medium, low, info)",
    ]
    assert isinstance(info.value, InputError) and info.value.exit_code == 2


def test_pack_hash_tracks_check_and_mapping_bytes(tmp_path: Path) -> None:
    checks_dir, mappings = tmp_path / "checks", tmp_path / "mappings"
    write(checks_dir, "aws/s3.yaml", GOOD)
    write(mappings, "ismap/2024-07/checks.yaml", "checks: {}\n")
    first = load_checks([checks_dir], include_python=False)
    again = load_checks([checks_dir], include_python=False)
    assert first.pack_hash(mappings) == again.pack_hash(mappings)
    assert len(first.pack_hash(mappings)) == 64
    assert first.select(ids=["aws.s3.bucket_name_short"]).pack_hash(mappings) == first.pack_hash(mappings)
    before = first.pack_hash(mappings)
    write(mappings, "ismap/2024-07/checks.yaml", "checks: {aws.s3.bucket_name_short: []}\n")
    assert first.pack_hash(mappings) != before
    after_mapping = first.pack_hash(mappings)
    write(checks_dir, "aws/s3.yaml", GOOD.replace("severity: low", "severity: info"))
    assert load_checks([checks_dir], include_python=False).pack_hash(mappings) != after_mapping


def test_bundled_checks_load_and_use_declared_resource_types() -> None:
    from ismap_scan.scan import known_resource_types

    known = known_resource_types()  # every installed provider's declared types
    checks = load_checks(known_types=known)
    assert len(checks) > 0
    assert checks.resource_types() <= known
