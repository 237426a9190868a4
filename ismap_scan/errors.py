"""Errors that end a command with a clear message and a non-zero exit code instead of a traceback."""

from __future__ import annotations

from pathlib import Path


class IsmapScanError(Exception):
    """Base of the errors the CLI turns into a message and an exit code (:attr:`exit_code`)."""

    exit_code = 1


class InputError(IsmapScanError):
    """Bad user input (config, check file, snapshot, results): exit code 2.

    ``str()`` reads ``file:line: check <id>: <what was expected>``; the parts that are unknown are left out.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        check: str | None = None,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.line = line
        self.check = check
        self.detail = message
        super().__init__(self._format())

    def _format(self) -> str:
        where = ""
        if self.file:
            where = self.file if self.line is None else f"{self.file}:{self.line}"
            where += ": "
        who = f"check {self.check}: " if self.check else ""
        return f"{where}{who}{self.detail}"


class InputErrors(InputError):
    """Several input errors found in one pass (all of them are reported, not just the first)."""

    def __init__(self, errors: list[InputError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))

    def _format(self) -> str:
        return self.detail
