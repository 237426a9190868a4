"""ismap-scan.yaml: valid files load; bad ones name file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from ismap_scan.config import load_config
from ismap_scan.errors import InputError, InputErrors


class FakeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    profile: str | None = None
    regions: list[str] | None = None


MODELS: dict[str, type[BaseModel]] = {"aws": FakeSettings}


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "ismap-scan.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def messages(exc: InputError) -> list[str]:
    return [str(e) for e in exc.errors] if isinstance(exc, InputErrors) else [str(exc)]


def test_full_config_loads_and_resolves_paths(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        """
version: 1
providers:
  aws:
    profile: audit
    regions: [ap-northeast-1]
checks:
  include: ["aws.s3.*"]
  min_severity: high
  params:
    aws.iam.user_access_keys_rotated: {max_age_days: 60}
  dirs: [team-checks]
output:
  dir: out
  formats: [md, SARIF]
  lang: ja
fail_on: none
""",
    )
    cfg = load_config(p, MODELS)
    assert isinstance(cfg.providers["aws"], FakeSettings)
    assert cfg.providers["aws"].regions == ["ap-northeast-1"]
    assert cfg.checks.min_severity.value == "high"
    assert cfg.checks.dirs == [tmp_path / "team-checks"]
    assert cfg.output.dir == tmp_path / "out"
    assert cfg.output.formats == ["md", "sarif"]
    assert cfg.fail_on == "none"


def test_no_file_gives_defaults() -> None:
    cfg = load_config(None, MODELS)
    assert cfg.providers == {} and cfg.output.lang == "ja" and cfg.fail_on == "info"


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("version: 1\nchecks:\n  inclde: [x]\n", 3, "checks.inclde: unknown key"),
        ("version: 1\noutput:\n  lang: fr\n", 3, "output.lang"),
        ("output:\n  formats: [md, pdf]\n", 2, "unknown format 'pdf'"),
        ("fail_on: severe\n", 1, "fail_on"),
        ("checks:\n  min_severity: 3\n", 2, "checks.min_severity"),
        ("output:\n  timezone: Mars/Olympus\n", 2, "unknown time zone"),
        ("providers:\n  aws:\n    regions: ap-northeast-1\n", 3, "providers.aws.regions"),
        ("providers:\n  aws:\n    profle: x\n", 3, "providers.aws.profle: unknown key"),
        ("providers:\n  gcp: {}\n", 2, "providers.gcp: unknown provider"),
        ("version: 2\n", 1, "version"),
    ],
)
def test_bad_values_name_file_line_and_key(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    p = write(tmp_path, text)
    with pytest.raises(InputError) as info:
        load_config(p, MODELS)
    msgs = messages(info.value)
    assert any(m.startswith(f"{p}:{line}: ") and fragment in m for m in msgs), msgs


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    p = write(tmp_path, "checks:\n  include: [a, b\noutput: {}\n")
    with pytest.raises(InputError) as info:
        load_config(p, MODELS)
    assert str(info.value).startswith(f"{p}:") and "invalid YAML" in str(info.value)


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    p = write(tmp_path, "fail_on: high\nfail_on: low\n")
    with pytest.raises(InputError, match=r":2: invalid YAML: .*duplicate key 'fail_on'"):
        load_config(p, MODELS)


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    p = write(tmp_path, "- a\n- b\n")
    with pytest.raises(InputError, match="expected a mapping"):
        load_config(p, MODELS)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="config file not found"):
        load_config(tmp_path / "nope.yaml", MODELS)


def test_all_errors_reported_at_once(tmp_path: Path) -> None:
    p = write(tmp_path, "fail_on: severe\noutput:\n  lang: fr\n")
    with pytest.raises(InputErrors) as info:
        load_config(p, MODELS)
    assert len(info.value.errors) == 2
