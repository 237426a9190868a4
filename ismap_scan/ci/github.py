"""The GitHub Actions runner interface: step outputs, the job summary, workflow commands, the event payload.

Standard library only (the action's input-validation step runs before anything is installed).

Sources: GitHub Docs, "Workflow commands for GitHub Actions" (``GITHUB_OUTPUT`` and ``GITHUB_STEP_SUMMARY`` are
files the runner names in the environment; multi-line values use a ``name<<DELIMITER`` block; workflow-command
data escapes ``%``, CR and LF, and properties also ``:`` and ``,``; ``::stop-commands::TOKEN`` suspends command
processing until ``::TOKEN::``), and "Webhook events and payloads" (``GITHUB_EVENT_PATH`` holds the JSON payload).
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

#: GitHub refuses a step summary larger than 1 MiB ("Job summaries" limits); we stay well below it.
STEP_SUMMARY_LIMIT = 1024 * 1024
#: An issue or pull-request comment body holds at most 65,536 characters.
COMMENT_LIMIT = 65_536


class GitHubEnv:
    """The runner's environment for one step.

    ``environ`` defaults to ``os.environ``; tests pass a dict. ``stream`` receives workflow commands
    (default ``sys.stdout``, which the runner scans for ``::command::`` lines).
    """

    def __init__(self, environ: Mapping[str, str] | None = None, stream: TextIO | None = None) -> None:
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.stream = stream

    # ------------------------------------------------------------------ facts about the run

    @property
    def in_actions(self) -> bool:
        """True on a GitHub Actions runner (``GITHUB_ACTIONS=true``)."""
        return self.environ.get("GITHUB_ACTIONS") == "true"

    @property
    def event_name(self) -> str:
        """``push``, ``schedule``, ``pull_request``, ``workflow_dispatch`` …; empty outside Actions."""
        return self.environ.get("GITHUB_EVENT_NAME", "")

    def event(self) -> dict[str, Any]:
        """The event payload (``GITHUB_EVENT_PATH``), or ``{}`` when absent or unreadable."""
        path = self.environ.get("GITHUB_EVENT_PATH")
        if not path:
            return {}
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def pull_request_number(self) -> int | None:
        """The pull request's number on ``pull_request``/``pull_request_target`` events, else ``None``."""
        if self.event_name not in ("pull_request", "pull_request_target"):
            return None
        number = (self.event().get("pull_request") or {}).get("number")
        return number if isinstance(number, int) else None

    # ------------------------------------------------------------------ files the runner reads

    def set_outputs(self, values: Mapping[str, object]) -> None:
        """Append step outputs to ``GITHUB_OUTPUT`` (no-op outside Actions).

        ``None`` becomes ``""``, booleans ``true``/``false``. Values with a line break are written as a
        ``name<<DELIMITER`` block whose delimiter is random and checked not to occur in the value.
        """
        path = self.environ.get("GITHUB_OUTPUT")
        if not path:
            return
        with open(path, "a", encoding="utf-8") as fh:
            for name, value in values.items():
                fh.write(format_output(name, value))

    def append_summary(self, markdown: str) -> None:
        """Append Markdown to the job summary (``GITHUB_STEP_SUMMARY``); no-op outside Actions.

        Cut (with a note) when it would pass :data:`STEP_SUMMARY_LIMIT` bytes, which GitHub would reject.
        """
        path = self.environ.get("GITHUB_STEP_SUMMARY")
        if not path:
            return
        data = markdown if markdown.endswith("\n") else markdown + "\n"
        data = truncate_utf8(data, STEP_SUMMARY_LIMIT - 1024, "\n\n_(summary cut at GitHub's size limit)_\n")
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(data)

    def add_path(self, directory: str | Path) -> None:
        """Prepend ``directory`` to ``PATH`` for later steps (``GITHUB_PATH``)."""
        path = self.environ.get("GITHUB_PATH")
        if path:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(f"{directory}\n")

    # ------------------------------------------------------------------ workflow commands (log annotations)

    def _out(self) -> TextIO:
        return self.stream or sys.stdout

    def command(self, name: str, message: str, **props: str) -> None:
        """Print ``::name props::message`` with GitHub's escaping (outside Actions: ``name: message``)."""
        out = self._out()
        if not self.in_actions:
            print(f"{name}: {message}", file=out, flush=True)
            return
        prop_text = ",".join(f"{k}={escape_property(v)}" for k, v in props.items() if v)
        head = f"::{name} {prop_text}::" if prop_text else f"::{name}::"
        print(head + escape_data(message), file=out, flush=True)

    def notice(self, message: str, title: str = "") -> None:
        self.command("notice", message, title=title)

    def warning(self, message: str, title: str = "") -> None:
        self.command("warning", message, title=title)

    def error(self, message: str, title: str = "") -> None:
        self.command("error", message, title=title)

    @contextmanager
    def commands_stopped(self) -> Iterator[None]:
        """Suspend workflow-command processing while untrusted text (a child's output) is printed.

        A random token ends the suspension, so text in the output cannot end it early and then inject
        ``::add-mask::``, ``::error::`` and the like.
        """
        if not self.in_actions:
            yield
            return
        token = secrets.token_hex(16)
        print(f"::stop-commands::{token}", file=self._out(), flush=True)
        try:
            yield
        finally:
            print(f"::{token}::", file=self._out(), flush=True)


def escape_data(text: str) -> str:
    """Escape a workflow command's message: ``%`` → ``%25``, CR → ``%0D``, LF → ``%0A``."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command property value: as :func:`escape_data`, plus ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_output(name: str, value: object) -> str:
    """One ``GITHUB_OUTPUT`` entry (ends with a newline). Raises ``ValueError`` for a bad name."""
    if not name or any(c in name for c in "=\r\n<"):
        raise ValueError(f"invalid output name {name!r}")
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value)
    if "\n" not in text and "\r" not in text:
        return f"{name}={text}\n"
    while True:
        delimiter = f"ghadelimiter_{secrets.token_hex(12)}"
        if delimiter not in text:
            break
    return f"{name}<<{delimiter}\n{text}\n{delimiter}\n"


def truncate_utf8(text: str, max_bytes: int, note: str) -> str:
    """``text`` if it fits in ``max_bytes`` UTF-8 bytes, else cut at a line end with ``note`` appended."""
    if len(text.encode("utf-8")) <= max_bytes:
        return text
    budget = max_bytes - len(note.encode("utf-8"))
    cut = text.encode("utf-8")[: max(budget, 0)].decode("utf-8", errors="ignore")
    cut = cut[: cut.rfind("\n") + 1] if "\n" in cut else cut
    return cut + note
