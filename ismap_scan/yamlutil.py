"""YAML loading that remembers line numbers, so every input error can name ``file:line``.

Two-stage loading (as Cloud Custodian does): :func:`load_yaml` parses and catches structural problems
(syntax, duplicate keys); the caller then validates the shape (pydantic) and turns each validation error's
location into a line with :func:`line_of`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .errors import InputError, InputErrors


class LineDict(dict[Any, Any]):
    """A mapping from YAML that knows its own line (:attr:`line`) and each key's line (:attr:`key_lines`)."""

    line: int = 0
    key_lines: dict[Any, int]


class LineList(list[Any]):
    """A sequence from YAML that knows its own line and each item's line (:attr:`item_lines`)."""

    line: int = 0
    item_lines: list[int]


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {out.key_lines[key]})", key_node.start_mark
            )
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.item_lines = [child.start_mark.line + 1 for child in node.value]
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml(path: str | Path, text: str | None = None) -> Any:
    """Parse one YAML document from ``path`` (or from ``text``, reported as ``path``).

    Mappings come back as :class:`LineDict`, sequences as :class:`LineList`. Raises :class:`InputError`
    naming the file and line on unreadable files, syntax errors and duplicate keys.
    """
    try:
        if text is None:
            text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read file: {exc}", file=path) from None
    try:
        return yaml.load(text, Loader=_Loader)  # _Loader is a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or str(exc)
        if exc.context and exc.context not in problem:
            problem = f"{exc.context}: {problem}"
        raise InputError(f"invalid YAML: {problem}", file=path, line=line) from None
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {exc}", file=path) from None


def line_of(doc: Any, loc: Sequence[Any]) -> int | None:
    """The line of the deepest node along ``loc`` (a pydantic error location) inside ``doc``."""
    line = getattr(doc, "line", None) or None
    node = doc
    for part in loc:
        if isinstance(node, LineDict) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.item_lines[part]
            node = node[part]
        else:
            break
    return line


def format_loc(loc: Sequence[Any]) -> str:
    """``("scope", "regions", 2)`` → ``scope.regions[2]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def validation_errors(
    exc: ValidationError, doc: Any, path: str | Path, *, check: str | None = None, prefix: Sequence[Any] = ()
) -> InputErrors:
    """Turn a pydantic :class:`ValidationError` on ``doc`` into :class:`InputErrors` with file:line and key."""
    errors: list[InputError] = []
    for err in exc.errors(include_url=False):
        loc = tuple(prefix) + tuple(
            p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))
        )
        msg = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        key = format_loc(loc)
        errors.append(
            InputError(
                f"{key}: {msg}" if key else msg, file=path, line=line_of(doc, tuple(err["loc"])), check=check
            )
        )
    return InputErrors(errors)
