"""The ``ismap-scan`` command line.

Exit codes (DESIGN §8): 0 nothing at or above ``--fail-on``; 1 unexpected internal error; 2 usage or
configuration error; 3 failures at or above ``--fail-on``; 4 scan incomplete (some results ERROR) and no
such failures. SDKs are imported only when a command needs them, so ``--help`` stays fast.
"""

from __future__ import annotations

import json
import logging
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from . import __version__
from .errors import InputError, IsmapScanError

F = TypeVar("F", bound=Callable[..., Any])

err_console = Console(stderr=True)
out_console = Console()


# ---------------------------------------------------------------- shared options


def _split_csv(values: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for v in values:
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def config_option(f: F) -> F:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="ismap-scan.yaml: scope, credentials profile, checks, params, outputs.",
    )(f)


def output_options(f: F) -> F:
    f = click.option("--lang", type=click.Choice(["ja", "en"]), help="Language of reports (default: en).")(f)
    f = click.option(
        "--format",
        "formats",
        multiple=True,
        help="Comma list of output formats: jsonl, md, csv, sarif (default: all).",
    )(f)
    f = click.option(
        "--output-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Folder that receives OUT/<scan-id>/ (default: ./ismap-scan-out).",
    )(f)
    return f


def fail_on_option(f: F) -> F:
    return click.option(
        "--fail-on",
        type=click.Choice(["critical", "high", "medium", "low", "info", "none"]),
        help="Exit 3 when a FAIL at or above this severity exists (default: info, i.e. any FAIL).",
    )(f)


def scope_options(f: F) -> F:
    f = click.option("--demo", is_flag=True, help="Scan the built-in demo estate on local fake cloud APIs.")(f)
    f = click.option("--provider", "providers", multiple=True, help="Comma list of providers to scan (e.g. aws).")(f)
    f = click.option("--profile", help="Credentials profile, for providers that have profiles.")(f)
    f = click.option("--role-arn", help="Role to assume before scanning, for providers that assume roles.")(f)
    f = click.option("--region", "regions", multiple=True, help="Comma list of regions (default: from config).")(f)
    f = click.option("--checks", "check_ids", multiple=True, help="Comma list of check IDs or patterns (aws.s3.*).")(f)
    return f


# ---------------------------------------------------------------- plumbing


@contextmanager
def _handle_errors(debug: bool) -> Iterator[None]:
    try:
        yield
    except IsmapScanError as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False, markup=True, soft_wrap=True)
        sys.exit(exc.exit_code)
    except ModuleNotFoundError as exc:
        err_console.print(
            f"[red]error:[/red] a required package is missing ({exc.name}). "
            "Install the extra for it, e.g. pip install 'ismap-scan[aws]' or 'ismap-scan[demo]'.",
            highlight=False,
        )
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        err_console.print(
            f"[red]internal error:[/red] {type(exc).__name__}: {exc}\n(run with --debug for the traceback)",
            highlight=False,
        )
        sys.exit(1)


class RichProgress:
    """Adapts the provider :class:`~ismap_scan.providers.base.Progress` protocol to a rich progress bar."""

    def __init__(self, progress: Any) -> None:
        self._progress = progress
        self._task = progress.add_task("collecting", total=0)

    def add_total(self, n: int) -> None:
        task = self._progress.tasks[0]
        self._progress.update(self._task, total=(task.total or 0) + n)

    def advance(self, description: str) -> None:
        self._progress.update(self._task, advance=1, description=description[:60])


def _load_cfg(config_path: Path | None) -> Any:
    from .config import load_config
    from .providers.base import get_provider, load_providers

    models = {name: get_provider(name).settings_model() for name in load_providers()}
    return load_config(config_path, models), models


def _apply_overrides(
    cfg: Any,
    models: dict[str, Any],
    *,
    output_dir: Path | None = None,
    formats: tuple[str, ...] = (),
    lang: str | None = None,
    fail_on: str | None = None,
    providers: tuple[str, ...] = (),
    profile: str | None = None,
    role_arn: str | None = None,
    regions: tuple[str, ...] = (),
) -> None:
    """Command-line options win over the config file. Provider options go to providers that have the field."""
    from pydantic import ValidationError

    from .config import validate_formats

    if output_dir is not None:
        cfg.output.dir = output_dir
    if formats:
        try:
            cfg.output.formats = validate_formats(_split_csv(formats))
        except ValueError as exc:
            raise InputError(f"--format: {exc}") from None
    if lang:
        cfg.output.lang = lang
    if fail_on:
        cfg.fail_on = fail_on
    wanted = _split_csv(providers)
    for name in wanted:
        if name not in models:
            raise InputError(f"--provider: unknown provider {name!r} (known: {', '.join(sorted(models)) or 'none'})")
    if wanted:
        cfg.providers = {n: cfg.providers.get(n) or models[n]() for n in wanted}
    overrides = {"profile": profile, "role_arn": role_arn, "regions": _split_csv(regions) or None}
    for name, settings in list(cfg.providers.items()):
        fields = type(settings).model_fields
        data = settings.model_dump()
        changed = False
        for key, value in overrides.items():
            if value is None:
                continue
            if key not in fields:
                raise InputError(f"--{key.replace('_', '-').rstrip('s')}: not a setting of provider {name!r}")
            data[key] = value
            changed = True
        if changed:
            try:
                cfg.providers[name] = type(settings).model_validate(data)
            except ValidationError as exc:
                raise InputError(f"provider {name}: {exc.errors(include_url=False)[0]['msg']}") from None


def _summary(results: list[Any], folder: Path, unseen: list[str], fail_on: str, code: int) -> None:
    from .model import Verdict

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
        sev = ", ".join(f"{s} {failed_by_sev[s]}" for s in ("critical", "high", "medium", "low", "info") if s in failed_by_sev)
        out_console.print(f"FAIL by severity: {sev}", highlight=False)
    if unseen:
        out_console.print(f"[yellow]Could not read ({len(unseen)} groups):[/yellow]")
        for line in unseen[:20]:
            out_console.print(f"  {line}", highlight=False)
        if len(unseen) > 20:
            out_console.print(f"  ... and {len(unseen) - 20} more (see the Markdown report)")
    status = {0: "ok", 3: f"failures at or above --fail-on {fail_on}", 4: "incomplete: some results are ERROR"}
    if code == 3 and verdicts.get(Verdict.ERROR):
        status[3] += f"; also incomplete: {verdicts[Verdict.ERROR]} ERROR results"
    out_console.print(f"Exit {code}: {status.get(code, '')}", highlight=False)
    out_console.print(f"Output: {folder}", highlight=False)


# ---------------------------------------------------------------- commands


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ismap-scan")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Scan live cloud configuration and map every result to ISMAP controls."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not debug:
        for noisy in ("botocore", "boto3", "urllib3", "werkzeug"):
            logging.getLogger(noisy).setLevel(logging.ERROR)


def _run_scan(ctx: click.Context, *, evaluate_too: bool, **opts: Any) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from . import scan as pipeline
    from .demo.runner import demo_estate

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
            err_console.print("[bold yellow]DEMO MODE[/bold yellow]: no cloud account is touched.", highlight=False)
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
        err_console.print(f"[red]provider {name} stopped early:[/red] {why} (records collected so far are kept)")
    results: list[Any] = []
    if evaluate_too:
        results, _reports, _controls = pipeline.evaluate_and_report(
            cfg, checks, outcome.resources, folder, scan_id, outcome.started_at, outcome.finished_at, cfg.output.formats
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
        out_console.print(f"Collected {digest.lines} records into {folder / pipeline.SNAPSHOT_FILE}", highlight=False)
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
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path), help="Default ./ismap-scan-out.")
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
        from . import scan as pipeline
        from .snapshot import read_manifest_beside, read_snapshot

        cfg, models = _load_cfg(opts["config_path"])
        _apply_overrides(
            cfg, models, output_dir=opts["output_dir"], formats=opts["formats"], lang=opts["lang"], fail_on=opts["fail_on"]
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
@click.option("--format", "formats", multiple=True, help="Comma list: md, csv, sarif (default: md, csv, sarif).")
@click.option("--lang", type=click.Choice(["ja", "en"]), default="en", show_default=True)
@click.option("-o", "--output-dir", type=click.Path(file_okay=False, path_type=Path), help="Default: beside RESULTS.")
@click.pass_context
def report(ctx: click.Context, results_file: Path, formats: tuple[str, ...], lang: str, output_dir: Path | None) -> None:
    """Render reports from a results.jsonl (no evaluation, no network)."""
    with _handle_errors(ctx.obj["debug"]):
        from .config import validate_formats
        from .reports import ReportMeta, read_results, write_reports
        from .snapshot import read_manifest_beside

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
        from . import scan as pipeline
        from .mappings import load_check_map

        cfg, _models = _load_cfg(config_path)
        checkset = pipeline.build_checkset(cfg)
        check_map = load_check_map(cfg.catalog)
        wanted = set(_split_csv(providers))
        rows = []
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
        for col in ("id", "severity", "resource", "controls", "title"):
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

        from . import scan as pipeline
        from .mappings import load_check_map

        cfg, _models = _load_cfg(config_path)
        checkset = pipeline.build_checkset(cfg)
        check = checkset.get(check_id)
        if check is None:
            raise InputError(f"unknown check {check_id!r} (see `ismap-scan checks list`)")
        doc = check.describe()
        doc["controls"] = [m.to_dict() for m in load_check_map(cfg.catalog).get(check_id, [])]
        click.echo(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))


def main() -> None:
    """Console-script entry point."""
    cli(obj={})


if __name__ == "__main__":
    main()
