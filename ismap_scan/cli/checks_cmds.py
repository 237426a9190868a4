"""``checks list`` and ``checks show``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from ..errors import InputError
from . import cli
from .common import _handle_errors, _load_cfg, _split_csv, config_option, out_console


@cli.group()
def checks() -> None:
    """List and show the checks (bundled and configured)."""


@checks.command("list")
@config_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--provider", "providers", multiple=True, help="Comma list of providers.")
@click.pass_context
def checks_list(ctx: click.Context, config_path: Path | None, fmt: str, providers: tuple[str, ...]) -> None:
    """List checks with severity, resource type and mapped ISMAP controls."""
    with _handle_errors(ctx.obj["debug"]):
        from .. import scan as pipeline
        from ..mappings import load_check_map

        cfg, _models = _load_cfg(config_path)
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
@click.pass_context
def checks_show(ctx: click.Context, check_id: str, config_path: Path | None) -> None:
    """Show one check's definition, params and mapped controls as YAML."""
    with _handle_errors(ctx.obj["debug"]):
        import yaml

        from .. import scan as pipeline
        from ..mappings import load_check_map

        cfg, _models = _load_cfg(config_path)
        checkset = pipeline.build_checkset(cfg)
        check = checkset.get(check_id)
        if check is None:
            raise InputError(f"unknown check {check_id!r} (see `ismap-scan checks list`)")
        doc = check.describe()
        doc["controls"] = [m.to_dict() for m in load_check_map(cfg.catalog).get(check_id, [])]
        click.echo(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
