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
    add_checks_dirs,
    assertion_option,
    checks_dir_option,
    config_option,
    err_console,
    fail_on_option,
    notify_options,
    out_console,
    output_options,
    scope_options,
    store_options,
)


def _summary(results: list[Any], folder: Path, unseen: list[str], fail_on: str, code: int) -> None:
    from ..model import Verdict

    verdicts = Counter(r.verdict for r in results)
    failed_by_sev = Counter(r.severity.value for r in results if r.verdict is Verdict.FAIL)
    checks = {r.check_id for r in results}
    out_console.print(f"ismap-scan results: {len(checks)} checks, {len(results)} results", highlight=False)
    table = Table()
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
    scope_line = _statement_scope_line(_read_json_beside(folder / "controls.json", "controls.json"))
    if scope_line:
        out_console.print(f"[yellow]Statement scope:[/yellow] {scope_line}", highlight=False, soft_wrap=True)
    status = {
        0: "ok",
        3: f"failures at or above --fail-on {fail_on}",
        4: "incomplete: some results are ERROR or a provider stopped early",
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
    if opts.get("assertion_path"):
        cfg.assertion = opts["assertion_path"]
    if opts.get("sakura_api_root") and (not cfg.providers or "sakura" in cfg.providers):
        from ..providers.sakura.settings import with_api_root

        cfg.providers["sakura"] = with_api_root(cfg.providers.get("sakura"), opts["sakura_api_root"])
    demo = opts["demo"]
    if not cfg.providers and not demo:
        raise InputError(
            "nothing to scan: give --provider (e.g. --provider aws) or a --config with a providers block; "
            "--demo scans the built-in demo estate instead"
        )
    scan_providers = list(cfg.providers)
    if demo:
        from ..demo.runner import DEMO_PROVIDERS

        scan_providers = scan_providers or list(DEMO_PROVIDERS)
    if cfg.output.dir.exists() and not cfg.output.dir.is_dir():
        raise InputError(f"output folder {cfg.output.dir} exists and is not a folder")
    # Validate the check selection before anything starts (a demo takes seconds to seed).
    add_checks_dirs(cfg, opts.get("checks_dirs"))
    checks = pipeline.build_checkset(cfg, _split_csv(opts["check_ids"]), providers=scan_providers)
    demo_ctx = demo_estate(scan_providers) if demo else nullcontext(None)
    with demo_ctx as estate:
        hooks: dict[str, list[Any]] = {}
        if estate is not None:
            err_console.print(
                "[bold yellow]DEMO MODE[/bold yellow]: no cloud account is touched.", highlight=False
            )
            for line in estate.lines:
                err_console.print(f"  {line}", highlight=False)
            if opts["config_path"] is not None and cfg.providers:
                err_console.print(
                    "  the config's provider settings are replaced by the demo's (--region still applies)",
                    highlight=False,
                )
            cfg.providers = {n: models[n].model_validate(s) for n, s in estate.settings.items()}
            hooks = estate.client_hooks
            _apply_overrides(cfg, models, regions=opts["regions"])
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
    unseen = pipeline.unseen_summary(outcome.resources, provider_failures=outcome.provider_failures)
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
            unseen=unseen,
            demo=demo,
        )
    pipeline.write_manifest(
        folder,
        scan_id,
        kind="scan" if evaluate_too else "collect",
        cfg=cfg,
        checks=checks,
        started_at=outcome.started_at,
        finished_at=outcome.finished_at,
        resources=outcome.resources,
        snapshot=digest,
        provider_failures=outcome.provider_failures,
        unseen=unseen,
        demo=demo,
    )
    if evaluate_too and not opts.get("no_store"):
        from ..evidence.hook import store_after_scan

        stored = store_after_scan(folder, store_url=opts.get("store"), cfg=cfg, checks=checks)
        err_console.print(
            f"Stored as link {stored.seq} of {stored.scope_key} (evidence store)", highlight=False
        )
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
    if opts.get("notify_urls"):  # a webhook failure is reported, never changes the scan's exit code
        from ..ci.steps import notify_after_scan

        for line in notify_after_scan(
            folder,
            results,
            fail_on=cfg.fail_on,
            urls=list(opts["notify_urls"]),
            fmt=opts["notify_format"],
            baseline=opts.get("baseline"),
            provider_failures=outcome.provider_failures,
        ):
            err_console.print(line, highlight=False, markup=False)
    sys.exit(code)


@cli.command()
@config_option
@scope_options
@checks_dir_option
@output_options
@assertion_option
@fail_on_option
@store_options
@notify_options
@click.pass_context
def scan(ctx: click.Context, **opts: Any) -> None:
    """Collect, evaluate and report in one go: writes OUT/<scan-id>/."""
    with _handle_errors(ctx.obj["debug"]):
        _run_scan(ctx, evaluate_too=True, **opts)


@cli.command()
@config_option
@scope_options
@checks_dir_option
@click.option(
    "-o", "--output-dir", type=click.Path(file_okay=False, path_type=Path), help="Default ./ismap-scan-out."
)
@click.pass_context
def collect(ctx: click.Context, **opts: Any) -> None:
    """Collect a snapshot only (no evaluation): OUT/<scan-id>/snapshot.jsonl.gz and manifest.json."""
    with _handle_errors(ctx.obj["debug"]):
        _run_scan(ctx, evaluate_too=False, **opts)


@cli.command()
@click.argument("snapshot", type=click.Path(path_type=Path))
@config_option
@checks_dir_option
@click.option("--checks", "check_ids", multiple=True, help="Comma list of check IDs or patterns.")
@output_options
@assertion_option
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
        if opts["assertion_path"]:
            cfg.assertion = opts["assertion_path"]
        resources, digest = read_snapshot(snapshot)
        manifest = read_manifest_beside(snapshot)
        if manifest and (manifest.get("snapshot") or {}).get("sha256") not in (None, digest.sha256):
            raise InputError(
                "snapshot does not match the SHA-256 in the manifest beside it (changed or corrupted)",
                file=snapshot,
            )
        # Evaluate what the snapshot holds: providers come from its records, not from a config.
        cfg.providers = {p: None for p in sorted({r.provider for r in resources})} or cfg.providers
        add_checks_dirs(cfg, opts.get("checks_dirs"))
        checks = pipeline.build_checkset(cfg, _split_csv(opts["check_ids"]))
        started = pipeline.utc_now()
        scan_id, folder = pipeline.new_scan_folder(cfg.output.dir)
        demo = bool((manifest or {}).get("demo"))
        failures = (manifest or {}).get("provider_failures") or {}
        unseen = pipeline.unseen_summary(resources, provider_failures=failures)
        results, _r, _c = pipeline.evaluate_and_report(
            cfg,
            checks,
            resources,
            folder,
            scan_id,
            started,
            pipeline.utc_now(),
            cfg.output.formats,
            unseen=unseen,
            demo=demo,
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
            provider_failures=failures,
            unseen=unseen,
            demo=demo,
        )
        code = pipeline.exit_code(results, cfg.fail_on)
        _summary(results, folder, unseen, cfg.fail_on, code)
        sys.exit(code)


class _ReportFormatOption(click.Option):
    """``report --format``: its help lists every renderer (:data:`ismap_scan.reports.FORMATS`) and the
    default, filled in only when help is shown, since importing the renderers is slow for every command."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        from ..reports import FORMATS

        names = ", ".join(f for f in FORMATS if f != "jsonl")
        self.help = (
            f"Comma list: {names} (default: {', '.join(report_default_formats())}, as scan writes). "
            "With --period: md or json."
        )
        return super().get_help_record(ctx)


@cli.command()
@click.argument("results_file", metavar="RESULTS", type=click.Path(path_type=Path), required=False)
@click.option(
    "--period",
    metavar="A..B",
    help="Compliance over a period from the evidence store (2026-04-01..2027-03-31).",
)
@click.option("--store", metavar="URL", help="Evidence store for --period (default: SQLite in the data dir).")
@click.option("--scope", help="Chain scope for --period, e.g. aws:111122223333 (default: the latest scan's).")
@click.option(
    "--timezone", default="Asia/Tokyo", show_default=True, help="Zone for --period dates and times."
)
@click.option("--format", "formats", multiple=True, cls=_ReportFormatOption)
@click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True)
@click.option(
    "-o", "--output-dir", type=click.Path(file_okay=False, path_type=Path), help="Default: beside RESULTS."
)
@click.option("--force", is_flag=True, help="Overwrite report files that already exist.")
@click.pass_context
def report(
    ctx: click.Context,
    results_file: Path | None,
    formats: tuple[str, ...],
    lang: str,
    output_dir: Path | None,
    force: bool,
    **period_opts: Any,
) -> None:
    """Render reports from a results.jsonl (no evaluation, no network), or with --period the compliance over
    a period from the evidence store (Markdown, or JSON with --format json)."""
    with _handle_errors(ctx.obj["debug"]):
        if period_opts["period"] or results_file is None:
            from .evidence_cmds import run_period_report

            if not period_opts["period"]:
                raise InputError("give RESULTS (a results.jsonl) or --period A..B")
            fmt = "json" if "json" in _split_csv(formats) else "md"
            out_file = (
                output_dir / f"period-{period_opts['period'].replace('..', '_')}.{fmt}"
                if output_dir
                else None
            )
            if output_dir:
                output_dir.mkdir(parents=True, exist_ok=True)
            run_period_report(
                store_url=period_opts["store"],
                scope=period_opts["scope"],
                period=period_opts["period"],
                timezone=period_opts["timezone"],
                fmt=fmt,
                output=out_file,
            )
            return
        from ..config import validate_formats
        from ..reports import FORMATS, ReportMeta, read_results, write_reports
        from ..snapshot import read_manifest_beside

        try:
            fmts = validate_formats(_split_csv(formats) or report_default_formats())
        except ValueError as exc:
            raise InputError(f"--format: {exc}") from None
        results = read_results(results_file)
        manifest = read_manifest_beside(results_file) or {}
        out = output_dir or results_file.parent
        wanted = [f for f in fmts if f != "jsonl"]
        existing = [out / FORMATS[f].filename for f in wanted if (out / FORMATS[f].filename).exists()]
        if existing and not force:
            # A scan folder's files are hashed in its manifest: silently replacing one breaks that evidence.
            names = ", ".join(str(p) for p in existing)
            raise InputError(f"would overwrite {names}; choose another folder with -o, or pass --force")
        out.mkdir(parents=True, exist_ok=True)
        controls_doc = _read_json_beside(results_file, "controls.json")
        meta = ReportMeta(
            scan_id=str(manifest.get("scan_id", results_file.parent.name)),
            tool_version=__version__,
            check_pack_hash=str((manifest.get("check_pack") or {}).get("sha256", "")),
            catalog_version=str(manifest.get("catalog_version", "")),
            started_at=str(manifest.get("started_at", "")),
            finished_at=str(manifest.get("finished_at", "")),
            scope=manifest.get("scope") or {},
            language=lang,
            controls=controls_doc.get("controls") if isinstance(controls_doc, dict) else None,
            assertion=controls_doc.get("assertion") if isinstance(controls_doc, dict) else None,
            unseen=manifest.get("unseen") if isinstance(manifest.get("unseen"), list) else None,
            demo=bool(manifest.get("demo")),
        )
        paths = write_reports(results, out, wanted, meta)
        for p in paths:
            out_console.print(str(p), highlight=False)


def _statement_scope_line(controls_doc: Any) -> str:
    """One short line from ``controls.json`` ``scope`` (``""`` when the statement and scan scopes agree):
    how many results lay outside the statement's scope (counted, not judged) and what it names unscanned."""
    scope = controls_doc.get("scope") if isinstance(controls_doc, dict) else None
    if not isinstance(scope, dict):
        return ""
    from ..ismap.rollup import where_text

    parts = []
    outside = scope.get("outside") or []
    if outside:
        n = sum(int(o.get("results", 0)) for o in outside)
        where = ", ".join(where_text(o) for o in outside)
        parts.append(f"{n} results outside it (counted, not judged: {where})")
    missing = scope.get("not_scanned") or []
    if missing:
        parts.append("not scanned: " + ", ".join(where_text(m) for m in missing))
    return "; ".join(parts) + " (see controls.json)" if parts else ""


def report_default_formats() -> list[str]:
    """What ``report`` renders without ``--format``: the formats ``scan`` writes by default
    (:data:`ismap_scan.config.DEFAULT_FORMATS`) except ``jsonl``, which ``report`` reads rather than writes."""
    from ..config import DEFAULT_FORMATS

    return [f for f in DEFAULT_FORMATS if f != "jsonl"]


def _read_json_beside(path: Path, name: str) -> Any:
    """``name`` (JSON) in ``path``'s folder, or ``None`` when it is absent or unreadable (reports go on)."""
    import json

    other = path.parent / name
    try:
        return json.loads(other.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
