"""Options, error handling and config plumbing shared by every ``ismap-scan`` command."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from ..errors import InputError, IsmapScanError

F = TypeVar("F", bound=Callable[..., Any])


def _console(stderr: bool) -> Console:
    # Piped or CI output has no terminal width; rich would fall back to 80 columns and wrap every table
    # cell. Use a wide page there instead (COLUMNS, when set, still wins). No file is bound, so the console
    # follows sys.stdout / sys.stderr when a test runner swaps them.
    stream = sys.stderr if stderr else sys.stdout
    wide = None if stream.isatty() or os.environ.get("COLUMNS") else 160
    return Console(stderr=stderr, width=wide)


err_console = _console(stderr=True)
out_console = _console(stderr=False)


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
    f = click.option(
        "--lang", type=click.Choice(["ja", "en"]), help="Language of reports (default: ja; en for English)."
    )(f)
    f = click.option(
        "--format",
        "formats",
        multiple=True,
        help="Comma list of formats: jsonl, md, csv, sarif, html, ocsf, junit, xlsx (default: all but xlsx).",
    )(f)
    f = click.option(
        "-o",
        "--output-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Folder that receives OUT/<scan-id>/ (default: ./ismap-scan-out).",
    )(f)
    return f


def assertion_option(f: F) -> F:
    return click.option(
        "--assertion",
        "assertion_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="assertion.yaml (言明書) for the control roll-up (default: the config's assertion key).",
    )(f)


def fail_on_option(f: F) -> F:
    return click.option(
        "--fail-on",
        type=click.Choice(["critical", "high", "medium", "low", "info", "none"]),
        help="Exit 3 when a FAIL at or above this severity exists (default: info, i.e. any FAIL).",
    )(f)


def checks_dir_option(f: F) -> F:
    """``--checks-dir DIR`` (repeatable): a team's YAML checks, loaded beside the bundled ones."""
    return click.option(
        "--checks-dir",
        "checks_dirs",
        multiple=True,
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help="Folder of your own YAML checks (<provider>/<service>.yaml) loaded beside the bundled ones; "
        "repeatable. Adds to the config's checks.dirs; IDs must not repeat a bundled check's.",
    )(f)


def add_checks_dirs(cfg: Any, dirs: tuple[Path, ...] | list[Path] | None) -> None:
    """Append ``--checks-dir`` folders (absolute, each once) to ``cfg.checks.dirs``."""
    for d in dirs or ():
        folder = Path(d).resolve()
        if folder not in cfg.checks.dirs:
            cfg.checks.dirs.append(folder)


def notify_options(f: F) -> F:
    """``--notify URL`` (repeatable; env ``ISMAP_SCAN_NOTIFY``), ``--notify-format``, ``--baseline`` (ismap_scan.ci)."""
    f = click.option(
        "--baseline",
        help="For --notify: baseline results.jsonl or scan folder, or 'previous' (newest earlier scan in OUT).",
    )(f)
    f = click.option(
        "--notify-format",
        type=click.Choice(["auto", "json", "slack"]),
        default="auto",
        help="Webhook payload: json, slack, or auto (slack for hooks.slack.com).",
    )(f)
    f = click.option(
        "--notify",
        "notify_urls",
        multiple=True,
        envvar="ISMAP_SCAN_NOTIFY",
        help="Webhook URL that receives the new-failure summary (env ISMAP_SCAN_NOTIFY; space-separated).",
    )(f)
    return f


def store_options(f: F) -> F:
    """``--store URL`` / ``--no-store``: where the scan is kept as evidence (see ``ismap_scan.evidence``)."""
    f = click.option("--no-store", is_flag=True, help="Do not keep this scan in the evidence store.")(f)
    f = click.option(
        "--store",
        metavar="URL",
        help="Evidence store: sqlite:///PATH or postgresql://... (default: SQLite in the data dir).",
    )(f)
    return f


def scope_options(f: F) -> F:
    f = click.option("--demo", is_flag=True, help="Scan the built-in demo estate on local fake cloud APIs.")(
        f
    )
    f = click.option(
        "--provider", "providers", multiple=True, help="Comma list of providers to scan (e.g. aws)."
    )(f)
    f = click.option("--profile", help="Credentials profile, for providers that have profiles.")(f)
    f = click.option("--role-arn", help="Role to assume before scanning, for providers that assume roles.")(f)
    f = click.option(
        "--region", "regions", multiple=True, help="Comma list of regions (default: from config)."
    )(f)
    f = click.option(
        "--checks", "check_ids", multiple=True, help="Comma list of check IDs or patterns (aws.s3.*)."
    )(f)
    f = click.option(
        "--sakura-api-root",
        metavar="URL",
        help="Sakura Cloud IaaS API root (default https://secure.sakura.ad.jp/cloud/zone); private endpoints, tests.",
    )(f)
    return f


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
    from ..config import load_config
    from ..providers.base import get_provider, load_providers

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

    from ..config import validate_formats

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
            raise InputError(
                f"--provider: unknown provider {name!r} (known: {', '.join(sorted(models)) or 'none'})"
            )
    if wanted:
        cfg.providers = {n: cfg.providers.get(n) or models[n]() for n in wanted}
    overrides = {"profile": profile, "role_arn": role_arn, "regions": _split_csv(regions) or None}
    for key, value in overrides.items():
        # An option applies to the providers that have that setting (Sakura has zones, not regions); it is
        # an error only when no provider being scanned has it.
        scanned: list[Any] = list(cfg.providers.values())
        if value is not None and scanned and not any(key in type(st).model_fields for st in scanned):
            option = "--" + key.replace("_", "-").removesuffix("s")
            raise InputError(
                f"{option}: no provider being scanned ({', '.join(cfg.providers)}) has this setting"
            )
    for name, settings in list(cfg.providers.items()):
        fields = type(settings).model_fields
        data = settings.model_dump()
        changed = False
        for key, value in overrides.items():
            if value is None or key not in fields:
                continue
            data[key] = value
            changed = True
        if changed:
            try:
                cfg.providers[name] = type(settings).model_validate(data)
            except ValidationError as exc:
                raise InputError(f"provider {name}: {exc.errors(include_url=False)[0]['msg']}") from None
