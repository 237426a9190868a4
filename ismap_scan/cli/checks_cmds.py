"""``checks list``, ``checks show`` and ``checks test`` (run check case files, the project's or a team's)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from ..errors import InputError
from . import cli
from .common import (
    _handle_errors,
    _load_cfg,
    _split_csv,
    add_checks_dirs,
    checks_dir_option,
    config_option,
    err_console,
    out_console,
)


@cli.group()
def checks() -> None:
    """List and show the checks (bundled and configured)."""


@checks.command("list")
@config_option
@checks_dir_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--provider", "providers", multiple=True, help="Comma list of providers.")
@click.pass_context
def checks_list(
    ctx: click.Context,
    config_path: Path | None,
    checks_dirs: tuple[Path, ...],
    fmt: str,
    providers: tuple[str, ...],
) -> None:
    """List checks with severity, resource type and mapped ISMAP controls."""
    with _handle_errors(ctx.obj["debug"]):
        from .. import scan as pipeline
        from ..mappings import load_check_map

        cfg, _models = _load_cfg(config_path)
        add_checks_dirs(cfg, checks_dirs)
        checkset = pipeline.build_checkset(cfg)
        check_map = load_check_map(cfg.catalog)
        wanted = set(_split_csv(providers))
        rows: list[dict[str, Any]] = []
        for c in checkset:
            if wanted and c.id.split(".")[0] not in wanted:
                continue
            rows.append(
                {
                    "id": c.id,
                    "severity": str(c.severity),
                    "resource": c.resource,
                    "title": dict(c.title),
                    "controls": [m.to_dict() for m in check_map.get(c.id, [])],
                }
            )
        if fmt == "json":
            click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        table = Table(title=f"{len(rows)} checks")
        table.add_column("id", no_wrap=True)
        for col in ("severity", "resource", "controls", "title"):
            table.add_column(col)
        for r in rows:
            ctrls = ", ".join(f"{m['id']}{'' if m['coverage'] == 'full' else '*'}" for m in r["controls"])
            table.add_row(r["id"], r["severity"], r["resource"], ctrls, r["title"].get(cfg.output.lang, ""))
        out_console.print(table)
        out_console.print("* partial coverage of the control")


@checks.command("show")
@click.argument("check_id")
@config_option
@checks_dir_option
@click.pass_context
def checks_show(
    ctx: click.Context, check_id: str, config_path: Path | None, checks_dirs: tuple[Path, ...]
) -> None:
    """Show one check's definition, params and mapped controls as YAML."""
    with _handle_errors(ctx.obj["debug"]):
        import yaml

        from .. import scan as pipeline
        from ..mappings import load_check_map

        cfg, _models = _load_cfg(config_path)
        add_checks_dirs(cfg, checks_dirs)
        checkset = pipeline.build_checkset(cfg)
        check = checkset.get(check_id)
        if check is None:
            raise InputError(f"unknown check {check_id!r} (see `ismap-scan checks list`)")
        doc = check.describe()
        doc["controls"] = [m.to_dict() for m in load_check_map(cfg.catalog).get(check_id, [])]
        click.echo(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))


#: A team folder laid out as the project is: checks in ``checks/``, their case files in ``cases/``.
TEAM_CHECKS_SUBDIR = "checks"
TEAM_CASES_SUBDIR = "cases"


def _test_layout(paths: tuple[Path, ...]) -> tuple[list[Path], list[Path]]:
    """``(check folders, case roots)`` for ``checks test PATH...``.

    A PATH holding ``checks/`` (and usually ``cases/``) is a team folder: its ``checks/`` is loaded and
    its ``cases/`` searched for case files. Any other PATH is a case file or a folder of case files.
    """
    check_dirs: list[Path] = []
    case_roots: list[Path] = []
    for path in paths:
        if path.is_dir() and (path / TEAM_CHECKS_SUBDIR).is_dir():
            check_dirs.append(path / TEAM_CHECKS_SUBDIR)
            cases = path / TEAM_CASES_SUBDIR
            case_roots.append(cases if cases.is_dir() else path)
        else:
            case_roots.append(path)
    return check_dirs, case_roots


@checks.command("test")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@config_option
@checks_dir_option
@click.option("--verbose", "-v", is_flag=True, help="Also list each case's resources and verdicts.")
@click.pass_context
def checks_test(
    ctx: click.Context,
    paths: tuple[Path, ...],
    config_path: Path | None,
    checks_dirs: tuple[Path, ...],
    verbose: bool,
) -> None:
    """Run check case files: a snapshot's records (`records` or `input`) and the exact resource IDs
    `expected` per verdict. PATH is a case file, a folder of them, or a team folder with checks/ and
    cases/ (its checks/ is loaded beside the bundled ones).

    Exit 0 when every case holds, 1 when a case's verdicts differ, 2 when a file or check is invalid.
    """
    with _handle_errors(ctx.obj["debug"]):
        from .. import scan as pipeline
        from ..engine.casetest import find_case_files, run_case_file
        from ..errors import InputErrors
        from ..model import Severity

        cfg, _models = _load_cfg(config_path)
        team_checks, case_roots = _test_layout(paths)
        add_checks_dirs(cfg, [*team_checks, *checks_dirs])
        # Every check, not the config's selection: a case names the check it tests.
        cfg.checks.include, cfg.checks.exclude, cfg.checks.services = [], [], []
        cfg.checks.min_severity = Severity.INFO
        checkset = pipeline.build_checkset(cfg)
        files = [p for root in case_roots for p in ([root] if root.is_file() else find_case_files([root]))]
        if not files:
            raise InputError(f"no case files (*.yaml) under {', '.join(str(r) for r in case_roots)}")
        table = Table(title=f"{len(files)} case files")
        for col in ("case", "check", "verdicts", "result"):
            table.add_column(col, overflow="fold")
        failed: list[str] = []
        invalid: list[str] = []  # every problem found, for the messages
        invalid_files = 0  # the counts are of case files: one file may hold several problems
        for path in files:
            try:
                outcome = run_case_file(path, checkset)
            except InputError as exc:
                problems = exc.errors if isinstance(exc, InputErrors) else [exc]
                invalid.extend(str(p) for p in problems)
                invalid_files += 1
                table.add_row(str(path), "?", "", "[red]invalid[/red]")
                continue
            covered = ", ".join(sorted(v.value for v in outcome.verdicts()))
            table.add_row(
                str(path),
                outcome.check_id,
                covered,
                "[green]pass[/green]" if outcome.ok else "[red]FAIL[/red]",
            )
            if not outcome.ok:
                failed.append(outcome.diff())
            if verbose:
                for r in outcome.results:
                    table.add_row("", f"  {r.resource_id}", r.verdict.value, r.message)
        out_console.print(table)
        for text in failed:
            out_console.print(text, highlight=False, markup=False)
        for text in invalid:
            err_console.print(f"[red]invalid:[/red] {text}", highlight=False, soft_wrap=True)
        passed = len(files) - len(failed) - invalid_files
        out_console.print(f"{passed} passed, {len(failed)} failed", highlight=False)
        if invalid_files:
            out_console.print(f"{invalid_files} invalid case files", highlight=False)
        sys.exit(2 if invalid else 1 if failed else 0)
