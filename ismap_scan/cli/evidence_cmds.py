"""``history``, ``diff``, ``bundle`` and ``keys``: the evidence store's commands (and ``report --period``).

Stable interfaces (the GitHub Action calls them): ``diff --format json`` (schema ``ismap-scan/diff/v1``),
``diff --exit-code`` (3 when there are new failures), ``bundle create ... -o FILE.zip`` and ``bundle verify``
(exit 0 verified, 3 a check failed, 2 unusable input).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from ..errors import InputError
from . import cli
from .common import _handle_errors, err_console, out_console

#: Exit code of ``bundle verify`` / ``history verify`` when verification fails (DESIGN §8: a failure found).
VERIFY_FAILED = 3


def store_option(f: Any) -> Any:
    return click.option(
        "--store",
        "store_url",
        metavar="URL",
        help="Evidence store: sqlite:///PATH or postgresql://USER@HOST/DB (default: SQLite in the data dir, "
        "or $ISMAP_SCAN_STORE).",
    )(f)


def scope_option(f: Any) -> Any:
    return click.option("--scope", help="Chain scope, e.g. aws:111122223333 (default: the latest scan's).")(f)


def _open(store_url: str | None) -> Any:
    from ..evidence.store import open_store

    return open_store(store_url)


# ---------------------------------------------------------------------------------------------- history


@cli.group(invoke_without_command=True)
@store_option
@scope_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
def history(ctx: click.Context, store_url: str | None, scope: str | None, fmt: str) -> None:
    """Stored scans of a scope, oldest first, with totals. Subcommands: verify, prune."""
    if ctx.invoked_subcommand is not None:
        return
    with _handle_errors(ctx.obj["debug"]), _open(store_url) as store:
        rows = store.list_scans(store.resolve_scope(scope))
        if fmt == "json":
            click.echo(json.dumps([r.summary() for r in rows], indent=2, ensure_ascii=False))
            return
        table = Table(title=f"Evidence: {rows[0].scope_key} ({len(rows)} scans)" if rows else "Evidence")
        for col in ("#", "scan", "started (UTC)", "results", "PASS", "FAIL", "ERROR", "signed", "snapshot"):
            table.add_column(
                col, justify="right" if col in ("#", "results", "PASS", "FAIL", "ERROR") else "left"
            )
        for r in rows:
            table.add_row(
                str(r.seq),
                r.scan_id + (" (demo)" if r.demo else ""),
                r.started_at,
                str(r.results_count),
                str(r.pass_count),
                str(r.fail_count),
                str(r.error_count),
                r.key_id or "no",
                "pruned" if r.snapshot_pruned_at else "kept",
            )
        out_console.print(table)


@history.command("verify")
@store_option
@scope_option
@click.option(
    "--public-key", type=click.Path(dir_okay=False, path_type=Path), help="Trusted Ed25519 public key."
)
@click.pass_context
def history_verify(
    ctx: click.Context, store_url: str | None, scope: str | None, public_key: Path | None
) -> None:
    """Walk the chain: manifest hashes, links, results, control statuses, snapshots and signatures.

    Exits 3 naming the first broken link, 0 when the chain is intact.
    """
    from ..evidence.location import configured_public_key

    with _handle_errors(ctx.obj["debug"]), _open(store_url) as store:
        key = public_key or configured_public_key()
        rep = store.verify_chain(store.resolve_scope(scope), key)
        signatures = {link.signature for link in rep.links}
        out_console.print(
            f"Chain {rep.scope_key}: {len(rep.links)} links; signatures: {', '.join(sorted(signatures)) or 'none'}",
            highlight=False,
        )
        broken = rep.first_broken
        if rep.ok:
            out_console.print("[green]OK[/green]: every link verifies.")
            return
        if broken is not None:
            out_console.print(
                f"[red]BROKEN[/red] at link {broken.seq}, scan {broken.scan_id}: "
                + "; ".join(broken.problems),
                highlight=False,
            )
            for link in rep.links:
                if link.problems and link is not broken:
                    out_console.print(f"  also link {link.seq} ({link.scan_id}): {'; '.join(link.problems)}")
        for p in rep.problems:
            out_console.print(f"[red]BROKEN[/red]: {p}", highlight=False)
        sys.exit(VERIFY_FAILED)


@history.command("prune")
@store_option
@click.option("--keep-days", type=click.IntRange(min=0), required=True, help="Keep snapshots this many days.")
@click.pass_context
def history_prune(ctx: click.Context, store_url: str | None, keep_days: int) -> None:
    """Delete snapshot files older than --keep-days. Manifests, results and control statuses are kept."""
    with _handle_errors(ctx.obj["debug"]), _open(store_url) as store:
        pruned = store.prune(keep_days)
        out_console.print(f"Pruned the snapshots of {len(pruned)} scans (manifests kept).", highlight=False)


# ---------------------------------------------------------------------------------------------- diff


@cli.command()
@click.argument("base", required=False)
@click.argument("head", required=False)
@store_option
@scope_option
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "md"]), default="table", show_default=True
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout."
)
@click.option("--exit-code", is_flag=True, help="Exit 3 when HEAD has new failures.")
@click.pass_context
def diff(
    ctx: click.Context,
    base: str | None,
    head: str | None,
    store_url: str | None,
    scope: str | None,
    fmt: str,
    output: Path | None,
    exit_code: bool,
) -> None:
    """What changed from BASE to HEAD: new failures, fixed, still failing, new/removed resources, control
    status changes. BASE and HEAD are stored scan IDs (a unique prefix) or scan folders; by default the last
    two stored scans of the scope."""
    from ..evidence.diff import diff_scans, render_markdown, view_from_folder, view_from_store

    with _handle_errors(ctx.obj["debug"]):
        if base and head and Path(base).exists() and Path(head).exists():
            d = diff_scans(view_from_folder(Path(base)), view_from_folder(Path(head)))
        else:
            with _open(store_url) as store:
                if base and head:
                    b, h = store.get_scan(base), store.get_scan(head)
                elif base or head:
                    raise InputError("give both BASE and HEAD, or neither (the last two scans of the scope)")
                else:
                    rows = store.list_scans(store.resolve_scope(scope))
                    if len(rows) < 2:
                        raise InputError(
                            f"scope {rows[0].scope_key if rows else scope} has fewer than two stored scans"
                        )
                    b, h = rows[-2], rows[-1]
                history = store.finding_history(h.scope_key)
                d = diff_scans(view_from_store(store, b), view_from_store(store, h), history)
        if fmt == "json":
            text = json.dumps(d.to_dict(), indent=2, ensure_ascii=False) + "\n"
        elif fmt == "md":
            text = render_markdown(d)
        else:
            text = ""
        if output is not None:
            output.write_text(text or render_markdown(d), encoding="utf-8")
            err_console.print(f"Wrote {output}", highlight=False)
        elif text:
            click.echo(text, nl=False)
        else:
            _print_diff_table(d)
        if exit_code and d.new_failures:
            sys.exit(3)


def _print_diff_table(d: Any) -> None:
    out_console.print(f"{d.base.scan_id} → {d.head.scan_id} ({d.head.scope})", highlight=False)
    counts = Table(show_header=True)
    counts.add_column("change")
    counts.add_column("count", justify="right")
    for k, v in d.counts().items():
        counts.add_row(k.replace("_", " "), str(v))
    out_console.print(counts)
    for title, items in (("New failures", d.new_failures), ("Fixed", d.fixed)):
        if items:
            t = Table(title=title)
            for col in ("severity", "check", "resource", "region"):
                t.add_column(col)
            for e in items:
                t.add_row(e["severity"], e["check_id"], e["resource_id"], e["region"])
            out_console.print(t)
    if d.control_changes:
        t = Table(title="Control status changes")
        for col in ("control", "before", "after"):
            t.add_column(col)
        for c in d.control_changes:
            t.add_row(c["control"], c["before"], c["after"])
        out_console.print(t)


# ---------------------------------------------------------------------------------------------- bundle


@cli.group()
def bundle() -> None:
    """Evidence bundles: a signed zip an auditor verifies with only ismap-scan and your public key."""


@bundle.command("create")
@click.argument("scan", required=False)
@click.option("--since", help="First day (YYYY-MM-DD, in --timezone) of scans to include.")
@click.option("--until", help="Last day (YYYY-MM-DD, in --timezone) of scans to include.")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="FILE.zip"
)
@click.option(
    "--sign-key", type=click.Path(dir_okay=False, path_type=Path), help="Ed25519 private key (PEM)."
)
@click.option(
    "--timezone", default="Asia/Tokyo", show_default=True, help="Zone of --since/--until and reports."
)
@store_option
@scope_option
@click.pass_context
def bundle_create(
    ctx: click.Context,
    scan: str | None,
    since: str | None,
    until: str | None,
    output: Path,
    sign_key: Path | None,
    timezone: str,
    store_url: str | None,
    scope: str | None,
) -> None:
    """Write FILE.zip with SCAN (default: the latest of the scope) or every scan --since/--until."""
    from ..evidence.bundle import create_bundle
    from ..evidence.location import configured_signing_key
    from ..evidence.period import parse_period, period_report, render_json, render_markdown

    with _handle_errors(ctx.obj["debug"]), _open(store_url) as store:
        extra: dict[str, bytes] = {}
        period = None
        if scan and (since or until):
            raise InputError("give SCAN or --since/--until, not both")
        if since or until:
            if not (since and until):
                raise InputError("--since and --until go together")
            p = parse_period(f"{since}..{until}", timezone)
            key = store.resolve_scope(scope)
            lo, hi = p.utc_bounds()
            rows = store.list_scans(key, since=lo, until=hi)
            rep = period_report(store, key, p)
            extra = {"period.md": render_markdown(rep).encode(), "period.json": render_json(rep).encode()}
            period = {"since": since, "until": until, "timezone": timezone}
        elif scan:
            rows = [store.get_scan(scan)]
        else:
            rows = store.list_scans(store.resolve_scope(scope))[-1:]
        key_path = sign_key or configured_signing_key()
        m = create_bundle(store, rows, output, sign_key=key_path, period=period, extra_reports=extra)
        signed = (
            f"signed with key {m['_signed_by']}" if m.get("_signed_by") else "UNSIGNED (no key configured)"
        )
        out_console.print(
            f"Wrote {output}: {len(rows)} scans, {len(m['members'])} members, {signed}", highlight=False
        )
        if m.get("reports_skipped"):
            err_console.print(
                f"[yellow]reports not rendered:[/yellow] {m['reports_skipped']}", highlight=False
            )


@bundle.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--public-key", type=click.Path(dir_okay=False, path_type=Path), help="The key you trust (PEM)."
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def bundle_verify(ctx: click.Context, file: Path, public_key: Path | None, fmt: str) -> None:
    """Check integrity, authenticity and reproducibility of FILE. Exit 3 on any mismatch."""
    from ..evidence.bundle import verify_bundle

    with _handle_errors(ctx.obj["debug"]):
        rep = verify_bundle(file, public_key)
        if fmt == "json":
            click.echo(json.dumps(rep.to_dict(), indent=2, ensure_ascii=False))
        else:
            out_console.print(f"integrity:       {rep.integrity}", highlight=False)
            out_console.print(f"authenticity:    {rep.authenticity}", highlight=False)
            out_console.print(f"reproducibility: {rep.reproducibility}", highlight=False)
            for p in rep.problems:
                out_console.print(f"[red]{p.code}[/red]: {p.message}", highlight=False)
        if not rep.ok:
            sys.exit(VERIFY_FAILED)


# ---------------------------------------------------------------------------------------------- keys


@cli.group()
def keys() -> None:
    """Signing keys for stored manifests and bundles (Ed25519)."""


@keys.command("generate")
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Default: DATA_DIR/keys."
)
@click.option("--force", is_flag=True, help="Replace an existing key pair.")
@click.pass_context
def keys_generate(ctx: click.Context, out_dir: Path | None, force: bool) -> None:
    """Write signing.key (private, mode 0600) and signing.pub. Give signing.pub to your auditor."""
    from ..evidence.location import keys_dir
    from ..evidence.signing import generate_keypair, key_id, load_public_key

    with _handle_errors(ctx.obj["debug"]):
        priv, pub = generate_keypair(out_dir or keys_dir(), overwrite=force)
        out_console.print(
            f"private key: {priv}\npublic key:  {pub} (key {key_id(load_public_key(pub))})", highlight=False
        )


# ---------------------------------------------------------------------------------------------- report --period


def run_period_report(
    *, store_url: str | None, scope: str | None, period: str, timezone: str, fmt: str, output: Path | None
) -> None:
    """``report --period A..B``: print (or write to ``output``) the period report as ``md`` or ``json``."""
    from ..evidence.period import parse_period, period_report, render_json, render_markdown

    p = parse_period(period, timezone)
    with _open(store_url) as store:
        rep = period_report(store, store.resolve_scope(scope), p)
    text = render_json(rep) if fmt == "json" else render_markdown(rep)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        out_console.print(str(output), highlight=False)
    else:
        click.echo(text, nl=False)
