"""The ``ismap-scan`` command line.

Exit codes (DESIGN §8): 0 nothing at or above ``--fail-on``; 1 unexpected internal error; 2 usage or
configuration error; 3 failures at or above ``--fail-on``; 4 scan incomplete (some results ERROR) and no
such failures. SDKs are imported only when a command needs them, so ``--help`` stays fast.

Each command group lives in its own module and registers itself on :data:`cli` when imported below.
"""

from __future__ import annotations

import logging

import click

from .. import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ismap-scan")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Scan live cloud configuration and map every result to ISMAP controls."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    if not debug:
        for noisy in ("botocore", "boto3", "urllib3", "werkzeug"):
            logging.getLogger(noisy).setLevel(logging.ERROR)


# Command modules register their commands on `cli` (import for the side effect, in help order).
from . import checks_cmds, ci_cmds, doctor_cmds, evidence_cmds, ismap_cmds, scan_cmds  # noqa: E402, F401


def main() -> None:
    """Console-script entry point."""
    cli(obj={})


if __name__ == "__main__":
    main()
