"""``catalog``, ``assertion`` and ``controls``: the ISMAP catalog, the statement (言明書) and control coverage."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from ..errors import InputError, InputErrors
from . import cli
from .common import _handle_errors, config_option, err_console, out_console

_FORMAT = click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)


def _print_json(doc: Any) -> None:
    click.echo(json.dumps(doc, ensure_ascii=False, indent=2))


def _known_checks(config_path: Path | None) -> set[str] | None:
    """Check IDs that exist: the bundled pack plus the config's extra folders (``None`` when they do not load)."""
    from ..engine import load_checks
    from ..paths import checks_dir
    from .common import _load_cfg

    cfg, _models = _load_cfg(config_path)
    try:
        return set(load_checks(dirs=[checks_dir(), *cfg.checks.dirs], params=cfg.checks.params).ids())
    except InputError as exc:
        # A broken check file is reported by `checks validate`; the statement can still be judged.
        err_console.print(
            f"note: check IDs not verified, the checks do not load: {exc}", highlight=False, soft_wrap=True
        )
        return None


# ------------------------------------------------------------------------------------------------ catalog


@cli.group()
def catalog() -> None:
    """ISMAP control catalogs: list, import the official table (別表3), diff two versions."""


@catalog.command("list")
@_FORMAT
@click.pass_context
def catalog_list(ctx: click.Context, fmt: str) -> None:
    """List catalog versions: bundled ones and those installed by `catalog import`."""
    with _handle_errors(ctx.obj["debug"]):
        from ..ismap.catalog import available_versions, is_bundled, load_catalog

        rows: list[dict[str, Any]] = []
        for version in available_versions():
            cat = load_catalog(version)
            rows.append(
                {
                    "version": version,
                    "where": "bundled" if is_bundled(version) else "installed",
                    "path": str(cat.path.parent) if cat.path else "",
                    "base": cat.base,
                    "ja_titles": cat.ja_titles,
                    "objectives": len(cat.objectives()),
                    "detailed": len(cat.detailed()),
                    "basic_statement_requirements": len(cat.basic_statement_requirements()),
                    "imported_from": (cat.imported or {}).get("file"),
                }
            )
        if fmt == "json":
            _print_json(rows)
            return
        table = Table(title="ISMAP catalogs")
        for col in ("version", "where", "objectives", "detailed", "B/PB", "ja titles", "imported from"):
            table.add_column(col)
        for r in rows:
            table.add_row(
                r["version"],
                r["where"],
                str(r["objectives"]),
                str(r["detailed"]),
                str(r["basic_statement_requirements"]),
                r["ja_titles"] or "",
                r["imported_from"] or "",
            )
        out_console.print(table)


@catalog.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--version", "version", required=True, help="Name of the new catalog version (e.g. 2024-07-official)."
)
@click.option("--base", "base", default="2024-07", show_default=True, help="Catalog version it extends.")
@click.option("--force", is_flag=True, help="Replace an installed version of the same name.")
@_FORMAT
@click.pass_context
def catalog_import(ctx: click.Context, file: Path, version: str, base: str, force: bool, fmt: str) -> None:
    """Install the official full table (別表3, .xlsx or .csv) as catalog VERSION in the user data directory."""
    with _handle_errors(ctx.obj["debug"]):
        from ..ismap.importer import import_table

        report = import_table(file, version, base_version=base, force=force)
        if fmt == "json":
            _print_json(report.to_dict())
            return
        out_console.print(
            f"Installed catalog {report.version} (over {report.base}) in {report.folder}", highlight=False
        )
        out_console.print(
            f"  sheet {report.sheet!r}: ID column {report.id_header!r}, text column {report.text_header!r}; "
            f"{report.rows} controls read",
            highlight=False,
            soft_wrap=True,
        )
        out_console.print(
            f"  confirmed {len(report.confirmed)}, added {len(report.added)}, "
            f"lacking {len(report.lacking)} of catalog {report.base}",
            highlight=False,
            soft_wrap=True,
        )
        if report.lacking:
            out_console.print(f"  lacking: {', '.join(report.lacking[:30])}", highlight=False, soft_wrap=True)
        if report.unparsed:
            err_console.print(f"[yellow]{len(report.unparsed)} rows could not be used:[/yellow]")
            for u in report.unparsed:
                err_console.print(f"  row {u.row}: {u.reason}: {u.text}", highlight=False, soft_wrap=True)


@catalog.command("diff")
@click.argument("a")
@click.argument("b")
@_FORMAT
@click.pass_context
def catalog_diff(ctx: click.Context, a: str, b: str, fmt: str) -> None:
    """What catalog version B added, removed, renumbered or retitled compared with A."""
    with _handle_errors(ctx.obj["debug"]):
        from ..ismap.catalog import load_catalog
        from ..ismap.diff import diff_catalogs

        doc = diff_catalogs(load_catalog(a), load_catalog(b))
        if fmt == "json":
            _print_json(doc)
            return
        counts = doc["counts"]
        out_console.print(
            f"{a} → {b}: {counts['added']} added, {counts['removed']} removed, {counts['renumbered']} renumbered, "
            f"{counts['retitled']} retitled, {counts['flags_changed']} with other flags",
            highlight=False,
            soft_wrap=True,
        )
        for key, sign in (("added", "+"), ("removed", "-")):
            for cid in doc[key]:
                out_console.print(f"  {sign} {cid}", highlight=False, soft_wrap=True)
        for r in doc["renumbered"]:
            out_console.print(f"  ~ {r['from']} → {r['to']}  {r['title']}", highlight=False, soft_wrap=True)
        for f in doc["flags_changed"]:
            out_console.print(
                f"  ! {f['id']} flags B {f['basic_statement_requirement']} P {f['cloud_specific']}",
                highlight=False,
                soft_wrap=True,
            )


# ------------------------------------------------------------------------------------------------ assertion


@cli.group()
def assertion() -> None:
    """The assertion document (言明書, assertion.yaml): create and validate."""


@assertion.command("init")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("assertion.yaml"),
    show_default=True,
    help="File to write ('-' for standard output).",
)
@click.option("--catalog", "version", default="2024-07", show_default=True)
@click.option("--profile", type=click.Choice(["ismap", "ismap-liu"]), default="ismap", show_default=True)
@click.option("--service", default="", help="Name of the cloud service.")
@click.option("--organization", default="", help="The provider's name.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.pass_context
def assertion_init(
    ctx: click.Context, output: Path, version: str, profile: str, service: str, organization: str, force: bool
) -> None:
    """Write a statement skeleton: every objective and .B/.PB control selected, TODO placeholders."""
    with _handle_errors(ctx.obj["debug"]):
        from ..ismap.catalog import load_catalog, load_check_map
        from ..ismap.template import render_init

        cat = load_catalog(version)
        text = render_init(
            cat,
            load_check_map(version, catalog=cat),
            profile=profile,
            service=service,
            organization=organization,
        )
        if str(output) == "-":
            click.echo(text, nl=False)
            return
        if output.exists() and not force:
            raise InputError("file exists (use --force to overwrite)", file=output)
        output.write_text(text, encoding="utf-8")
        out_console.print(
            f"Wrote {output}: {len(cat.objectives())} objectives and {len(cat.basic_statement_requirements())} "
            "basic statement requirements selected; fill in the TODOs, then run `ismap-scan assertion validate`.",
            highlight=False,
            soft_wrap=True,
        )


@assertion.command("validate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@config_option
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Judge expiry on this date (default: today, UTC).",
)
@click.pass_context
def assertion_validate(ctx: click.Context, file: Path, config_path: Path | None, today: Any) -> None:
    """Check assertion.yaml: IDs, selections, .B/.PB rule, dates, expired attestations and waivers (exit 2)."""
    with _handle_errors(ctx.obj["debug"]):
        from ..ismap.assertion import load_assertion, notes, today_utc

        assertion_doc = load_assertion(file, known_checks=_known_checks(config_path))
        day: date = today.date() if today else today_utc()
        expired = assertion_doc.expired(day)
        for line in notes(assertion_doc):
            err_console.print(f"note: {line}", highlight=False, soft_wrap=True)
        if expired:
            raise InputErrors(expired)
        s = assertion_doc.summary()
        out_console.print(
            f"{file}: valid ({s['profile']}, catalog {s['catalog']}: {s['selected']} selected, "
            f"{s['excluded']} excluded, {len(assertion_doc.attestations)} attestations, "
            f"{len(assertion_doc.waivers)} waivers)",
            highlight=False,
            soft_wrap=True,
        )


# ------------------------------------------------------------------------------------------------ controls


@cli.command("controls")
@config_option
@click.option("--catalog", "version", help="Catalog version (default: the config's, else 2024-07).")
@click.option(
    "--assertion",
    "assertion_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="assertion.yaml: show what the statement selects.",
)
@click.option("--coverage", is_flag=True, help="Which selected controls have automated evidence, per cloud.")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True
)
@click.option(
    "--lang",
    type=click.Choice(["ja", "en"]),
    default="ja",
    show_default=True,
    help="Language of control titles (ja, as the reports; en for English).",
)
@click.pass_context
def controls(
    ctx: click.Context,
    config_path: Path | None,
    version: str | None,
    assertion_path: Path | None,
    coverage: bool,
    fmt: str,
    lang: str,
) -> None:
    """List the catalog's objectives and detailed controls with their flags and mapped checks."""
    with _handle_errors(ctx.obj["debug"]):
        from ..ismap.assertion import load_assertion
        from ..ismap.catalog import load_catalog, load_check_map
        from ..ismap.coverage import controls_report
        from .common import _load_cfg

        cfg = _load_cfg(config_path)[0] if config_path else None
        version = version or (cfg.catalog if cfg else "2024-07")
        cat = load_catalog(version)
        check_map = load_check_map(version, catalog=cat)
        path = assertion_path or (cfg.assertion if cfg else None)
        statement = load_assertion(path, catalog=cat) if path else None
        if statement is not None and statement.catalog.version != cat.version:
            raise InputError(
                f"the statement names catalog {statement.catalog.version}, not {cat.version}", file=path
            )
        doc = controls_report(cat, check_map, statement, coverage=coverage)
        if fmt == "json":
            _print_json(doc)
            return
        if fmt == "csv":
            _write_csv(doc, lang)
            return
        _print_table(doc, lang, coverage)


def _write_csv(doc: dict[str, Any], lang: str) -> None:
    from ..reports.csvfile import guard_cell

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(
        [
            "id",
            "level",
            "objective",
            "title",
            "basic_statement_requirement",
            "cloud_specific",
            "selected",
            "reason",
            "checks",
        ]
    )
    for r in doc["controls"]:
        w.writerow(
            [
                r["id"],
                r["level"],
                r["objective"] or "",
                guard_cell(r["title"].get(lang) or r["title"].get("en", "")),
                "yes" if r["basic_statement_requirement"] else "",
                "yes" if r["cloud_specific"] else "",
                "" if r["selected"] is None else ("yes" if r["selected"] else "no"),
                guard_cell(r["reason"]),
                " ".join(c for checks in r["checks"].values() for c in checks),
            ]
        )
    sys.stdout.write(buf.getvalue())


def _print_table(doc: dict[str, Any], lang: str, coverage: bool) -> None:
    title = (
        f"Catalog {doc['catalog']}: {doc['objectives']} objectives, {doc['detailed']} detailed controls "
        f"({doc['basic_statement_requirements']} basic statement requirements)"
    )
    table = Table(title=title)
    for col in ("ID", "B", "P", "selected", "title", "automated evidence"):
        table.add_column(col)
    for r in doc["controls"]:
        evidence = ", ".join(f"{p} {len(c)}" for p, c in r["checks"].items()) or "-"
        table.add_row(
            ("  " if r["level"] == "detailed" else "") + r["id"],
            "B" if r["basic_statement_requirement"] else "",
            "P" if r["cloud_specific"] else "",
            "" if r["selected"] is None else ("yes" if r["selected"] else "no"),
            r["title"].get(lang) or r["title"].get("en", ""),
            evidence,
        )
    out_console.print(table)
    if coverage:
        cov = doc["coverage"]
        for p in cov["providers"]:
            covered = len(cov["checkable"]["covered"][p])
            out_console.print(
                f"{p}: {cov['with_evidence'][p]} listed controls have automated evidence; "
                f"{covered} of {cov['checkable']['target']} checkable objectives covered",
                highlight=False,
                soft_wrap=True,
            )
            missing = cov["checkable"]["missing"][p]
            if missing:
                out_console.print(f"  no checks yet: {', '.join(missing)}", highlight=False, soft_wrap=True)
