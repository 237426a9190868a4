"""``doctor``: pre-flight checks before a (nightly) scan, and the least-privilege policy of each provider.

Exit codes: 0 everything checked works; 3 a permission is missing or a prerequisite failed (credentials,
an account that cannot be entered, a closed region); 4 only inconclusive answers remain; 2 usage errors.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from contextlib import nullcontext
from typing import Any

import click
from rich.table import Table

from ..errors import InputError
from . import cli
from .common import (
    _apply_overrides,
    _handle_errors,
    _load_cfg,
    _split_csv,
    config_option,
    err_console,
    out_console,
)


@cli.command()
@config_option
@click.option("--provider", "providers", multiple=True, help="Comma list of providers to check (e.g. aws).")
@click.option("--profile", help="Credentials profile, for providers that have profiles.")
@click.option("--role-arn", help="Role to assume before checking, for providers that assume roles.")
@click.option("--region", "regions", multiple=True, help="Comma list of regions (default: from config).")
@click.option("--demo", is_flag=True, help="Check against the built-in demo estate (local fake cloud APIs).")
@click.option("--all", "show_all", is_flag=True, help="List every check, not only the ones that are not ok.")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON lines instead of a table.")
@click.option(
    "--print-policy", is_flag=True, help="Print the least-privilege IAM policy the collectors need, and exit."
)
@click.pass_context
def doctor(ctx: click.Context, **opts: Any) -> None:
    """Check credentials, identity, regions, accounts and every read permission a scan needs."""
    with _handle_errors(ctx.obj["debug"]):
        code = _run_doctor(**opts)
    sys.exit(code)


def _providers(cfg: Any, models: dict[str, Any], names: tuple[str, ...]) -> list[str]:
    wanted = _split_csv(names) or list(cfg.providers) or sorted(models)
    unknown = [n for n in wanted if n not in models]
    if unknown:
        raise InputError(
            f"--provider: unknown provider(s) {', '.join(unknown)} (known: {', '.join(sorted(models))})"
        )
    return wanted


def _run_doctor(**opts: Any) -> int:
    from ..demo.runner import demo_estate
    from ..providers.base import CollectOptions, get_provider
    from ..providers.diagnostics import DoctorStatus, doctor_exit_code, missing_permissions

    cfg, models = _load_cfg(opts["config_path"])
    names = _providers(cfg, models, opts["providers"])
    if opts["print_policy"]:
        for name in names:
            policy = getattr(get_provider(name), "permissions_policy", None)
            if policy is not None:
                click.echo(json.dumps(policy(), indent=2))
        return 0
    overrides = {"profile": opts["profile"], "role_arn": opts["role_arn"], "regions": opts["regions"]}
    _apply_overrides(cfg, models, providers=tuple(names), **overrides)
    demo_ctx = demo_estate(names) if opts["demo"] else nullcontext(None)
    checks: list[Any] = []
    with demo_ctx as estate:
        hooks: dict[str, list[Any]] = {}
        if estate is not None:
            err_console.print(
                "[bold yellow]DEMO MODE[/bold yellow]: no cloud account is touched.", highlight=False
            )
            for line in estate.lines:
                err_console.print(f"  {line}", highlight=False)
            cfg.providers = {n: models[n].model_validate(s) for n, s in estate.settings.items() if n in names}
            _apply_overrides(cfg, models, **overrides)  # --role-arn etc. win over the demo's settings too
            hooks = estate.client_hooks
            for prepare in estate.before_doctor:
                prepare()
        for name, settings in cfg.providers.items():
            provider = get_provider(name)
            run = getattr(provider, "doctor", None)
            if run is None:
                err_console.print(f"provider {name} has no doctor checks", highlight=False)
                continue
            checks.extend(run(CollectOptions(settings=settings, client_hooks=list(hooks.get(name, [])))))
    if opts["as_json"]:
        for c in checks:
            out_console.print(json.dumps(c.to_dict(), ensure_ascii=False), highlight=False, soft_wrap=True)
    else:
        _table(checks, opts["show_all"])
    # With --json, stdout carries only JSON lines (one per check) so it can be piped to jq; the summary
    # lines then go to stderr.
    summary_console = err_console if opts["as_json"] else out_console
    missing = missing_permissions(checks)
    counts = Counter(c.status.value for c in checks)
    summary_console.print(
        ", ".join(f"{s.value} {counts.get(s.value, 0)}" for s in DoctorStatus), highlight=False
    )
    if missing:
        summary_console.print(
            f"[red]Missing permissions ({len(missing)}):[/red] {', '.join(missing)}", highlight=False
        )
    code = doctor_exit_code(checks)
    summary_console.print(f"Exit {code}", highlight=False)
    return code


def _table(checks: list[Any], show_all: bool) -> None:
    from ..providers.diagnostics import DoctorStatus

    shown = [c for c in checks if show_all or c.status is not DoctorStatus.OK or c.category != "permission"]
    table = Table(title=f"ismap-scan doctor ({len(checks)} checks, {len(shown)} shown)")
    for col in ("check", "subject", "status", "account", "region", "detail"):
        table.add_column(col, overflow="fold")
    style = {"ok": "green", "missing": "red", "failed": "red", "inconclusive": "yellow"}
    for c in shown:
        status = f"[{style[c.status.value]}]{c.status.value}[/]"
        subject = c.permission if c.category == "permission" and c.permission else c.subject
        table.add_row(c.category, subject, status, c.account, c.region, c.detail[:120])
    out_console.print(table)
