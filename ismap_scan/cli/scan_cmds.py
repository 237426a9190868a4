"""``scan``, ``collect``, ``evaluate`` and ``report``: the pipeline's commands."""

from __future__ import annotations

import sys
from collections import Counter
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from .. import __version__
from ..errors import InputError
from . import cli
from .common import (
    RichProgress,
    _apply_overrides,
    _handle_errors,
    _load_cfg,
    _split_csv,
    config_option,
    err_console,
    fail_on_option,
    out_console,
    output_options,
    scope_options,
)


def _summary(results: list[Any], folder: Path, unseen: list[str], fail_on: str, code: int) -> None:
    from ..model import Verdict

    verdicts = Counter(r.verdict for r in results)
    failed_by_sev = Counter(r.severity.value for r in results if r.verdict is Verdict.FAIL)
    checks = {r.check_id for r in results}
    table = Table(title=f"ismap-scan results ({len(checks)} checks, {len(results)} results)")
    table.add_column("verdict")
    table.add_column("count", justify="right")
    for v in Verdict:
        table.add_row(v.value, str(verdicts.get(v, 0)))
    out_console.print(table)
    if failed_by_sev:
        sev = ", ".join(
            f"{s} {failed_by_sev[s]}"
            for s in ("critical", "high", "medium", "low", "info")
            if s in failed_by_sev
        )
        out_console.print(f"FAIL by severity: {sev}", highlight=False)
    if unseen:
        out_console.print(f"[yellow]Could not read ({len(unseen)} groups):[/yellow]")
        for line in unseen[:20]:
            out_console.print(f"  {line}", highlight=False)
        if len(unseen) > 20:
            out_console.print(f"  ... and {len(unseen) - 20} more (see the Markdown report)")
    status = {
        0: "ok",
        3: f"failures at or above --fail-on {fail_on}",
        4: "incomplete: some results are ERROR",
    }
    if code == 3 and verdicts.get(Verdict.ERROR):
        status[3] += f"; also incomplete: {verdicts[Verdict.ERROR]} ERROR results"
    out_console.print(f"Exit {code}: {status.get(code, '')}", highlight=False)
    out_console.print(f"Output: {folder}", highlight=False)


def _run_scan(ctx: click.Context, *, evaluate_too: bool, **opts: Any) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .. import scan as pipeline
    from ..demo.runner import demo_estate

    cfg, models = _load_cfg(opts["config_path"])
    _apply_overrides(
        cfg,
        models,
        output_dir=opts["output_dir"],
        formats=opts.get("formats", ()),
        lang=opts.get("lang"),
        fail_on=opts.get("fail_on"),
        providers=opts["providers"],
        profile=opts["profile"],
        role_arn=opts["role_arn"],
        regions=opts["regions"],
    )
    demo = opts["demo"]
    if not cfg.providers and not demo:
        raise InputError(
            "nothing to scan: give --provider (e.g. --provider aws) or a --config with a providers block; "
            "--demo scans the built-in demo estate instead"
        )
    demo_ctx = demo_estate(list(cfg.providers) or None) if demo else nullcontext(None)
    with demo_ctx as estate:
        hooks: dict[str, list[Any]] = {}
        if estate is not None:
            err_console.print(
                "[bold yellow]DEMO MODE[/bold yellow]: no cloud account is touched.", highlight=False
            )
            for line in estate.lines:
                err_console.print(f"  {line}", highlight=False)
            cfg.providers = {n: models[n].model_validate(s) for n, s in estate.settings.items()}
            hooks = estate.client_hooks
        checks = pipeline.build_checkset(cfg, _split_csv(opts["check_ids"]))
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
            disable=not err_console.is_terminal,
        ) as bar:
            outcome = pipeline.collect(cfg, checks, RichProgress(bar), client_hooks=hooks)
    scan_id, folder = pipeline.new_scan_folder(cfg.output.dir)
    digest = pipeline.write_collect_outputs(folder, outcome)
    for name, why in outcome.provider_failures.items():
        err_console.print(
            f"[red]provider {name} stopped early:[/red] {why} (records collected so far are kept)"
        )
    results: list[Any] = []
    if evaluate_too:
        results, _reports, _controls = pipeline.evaluate_and_report(
            cfg,
            checks,
            outcome.resources,
            folder,
            scan_id,
            outcome.started_at,
            outcome.finished_at,
            cfg.output.formats,
        )
    pipeline.write_manifest(
        folder,
        scan_id,
        kind="scan" if evaluate_too else "collect",
        cfg=cfg,
        checks=checks,
        started_at=outcome.started_at,
        finished_at=pipeline.utc_now(),
        resources=outcome.resources,
        snapshot=digest,
        provider_failures=outcome.provider_failures,
        demo=demo,
    )
    unseen = pipeline.unseen_summary(outcome.resources)
    if not evaluate_too:
        out_console.print(
            f"Collected {digest.lines} records into {folder / pipeline.SNAPSHOT_FILE}", highlight=False
        )
        if unseen:
            out_console.print(f"Could not read ({len(unseen)} groups); see the snapshot's errors.")
        sys.exit(4 if outcome.provider_failures else 0)
    code = pipeline.exit_code(results, cfg.fail_on)
    if outcome.provider_failures and code == 0:
        code = 4
    _summary(results, folder, unseen, cfg.fail_on, code)
    sys.exit(code)


@cli.command()
@config_option
@scope_options
@output_options
@fail_on_option
@click.pass_context
def scan(ctx: click.Context, **opts: Any) -> None:
    """Collect, evaluate and report in one go: writes OUT/<scan-id>/."""
    with _handle_errors(ctx.obj["debug"]):
        _run_scan(ctx, evaluate_too=True, **opts)


@cli.command()
@config_option
@scope_options
@click.option(
    "--output-dir", type=click.Path(file_okay=False, path_type=Path), help="Default ./ismap-scan-out."
)
@click.pass_context
def collect(ctx: click.Context, **opts: Any) -> None:
    """Collect a snapshot only (no evaluation): OUT/<scan-id>/snapshot.jsonl.gz and manifest.json."""
    with _handle_errors(ctx.obj["debug"]):
        _run_scan(ctx, evaluate_too=False, **opts)


@cli.command()
@click.argument("snapshot", type=click.Path(path_type=Path))
@config_option
@click.option("--checks", "check_ids", multiple=True, help="Comma list of check IDs or patterns.")
@output_options
@fail_on_option
@click.pass_context
def evaluate(ctx: click.Context, snapshot: Path, **opts: Any) -> None:
    """Evaluate a snapshot with the checks, offline (never touches a network). Writes a new OUT/<scan-id>/."""
    with _handle_errors(ctx.obj["debug"]):
        from .. import scan as pipeline
        from ..snapshot import read_manifest_beside, read_snapshot

        cfg, models = _load_cfg(opts["config_path"])
        _apply_overrides(
            cfg,
            models,
            output_dir=opts["output_dir"],
            formats=opts["formats"],
            lang=opts["lang"],
            fail_on=opts["fail_on"],
        )
        resources, digest = read_snapshot(snapshot)
        manifest = read_manifest_beside(snapshot)
        if manifest and (manifest.get("snapshot") or {}).get("sha256") not in (None, digest.sha256):
            raise InputError(
                "snapshot does not match the SHA-256 in the manifest beside it (changed or corrupted)",
                file=snapshot,
            )
        # Evaluate what the snapshot holds: providers come from its records, not from a config.
        cfg.providers = {p: None for p in sorted({r.provider for r in resources})} or cfg.providers
        checks = pipeline.build_checkset(cfg, _split_csv(opts["check_ids"]))
        started = pipeline.utc_now()
        scan_id, folder = pipeline.new_scan_folder(cfg.output.dir)
        results, _r, _c = pipeline.evaluate_and_report(
            cfg, checks, resources, folder, scan_id, started, pipeline.utc_now(), cfg.output.formats
        )
        pipeline.write_manifest(
            folder,
            scan_id,
            kind="evaluate",
            cfg=cfg,
            checks=checks,
            started_at=started,
            finished_at=pipeline.utc_now(),
            resources=resources,
            snapshot=None,
            source_snapshot={
                "path": str(snapshot),
                "sha256": digest.sha256,
                "records": digest.lines,
                "scan_id": (manifest or {}).get("scan_id"),
            },
        )
        code = pipeline.exit_code(results, cfg.fail_on)
        _summary(results, folder, pipeline.unseen_summary(resources), cfg.fail_on, code)
        sys.exit(code)


@cli.command()
@click.argument("results_file", metavar="RESULTS", type=click.Path(path_type=Path))
@click.option(
    "--format", "formats", multiple=True, help="Comma list: md, csv, sarif (default: md, csv, sarif)."
)
@click.option("--lang", type=click.Choice(["ja", "en"]), default="en", show_default=True)
@click.option(
    "-o", "--output-dir", type=click.Path(file_okay=False, path_type=Path), help="Default: beside RESULTS."
)
@click.pass_context
def report(
    ctx: click.Context, results_file: Path, formats: tuple[str, ...], lang: str, output_dir: Path | None
) -> None:
    """Render reports from a results.jsonl (no evaluation, no network)."""
    with _handle_errors(ctx.obj["debug"]):
        from ..config import validate_formats
        from ..reports import ReportMeta, read_results, write_reports
        from ..snapshot import read_manifest_beside

        try:
            fmts = validate_formats(_split_csv(formats) or ["md", "csv", "sarif"])
        except ValueError as exc:
            raise InputError(f"--format: {exc}") from None
        results = read_results(results_file)
        manifest = read_manifest_beside(results_file) or {}
        out = output_dir or results_file.parent
        out.mkdir(parents=True, exist_ok=True)
        meta = ReportMeta(
            scan_id=str(manifest.get("scan_id", results_file.parent.name)),
            tool_version=__version__,
            check_pack_hash=str((manifest.get("check_pack") or {}).get("sha256", "")),
            catalog_version=str(manifest.get("catalog_version", "")),
            started_at=str(manifest.get("started_at", "")),
            finished_at=str(manifest.get("finished_at", "")),
            scope=manifest.get("scope") or {},
            language=lang,
        )
        paths = write_reports(results, out, [f for f in fmts if f != "jsonl"], meta)
        for p in paths:
            out_console.print(str(p), highlight=False)
