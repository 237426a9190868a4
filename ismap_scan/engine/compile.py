"""Compile a check's expressions once: bind ``$param`` tokens, parse, and refuse unknown functions.

JMESPath has no way to reach the root from inside a filter, so params cannot be passed as data; instead
each ``$name`` token outside a literal is replaced by a JSON literal of its value before parsing
(``days_since(CreateDate) <= $max_age_days`` → ``days_since(CreateDate) <= `90```). Tokens inside raw
strings (``'...'``), JSON literals (`````...`````) and quoted identifiers (``"..."``) are left alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

import jmespath
from jmespath.exceptions import (
    EmptyExpressionError,
    IncompleteExpressionError,
    JMESPathError,
    LexerError,
    ParseError,
)
from jmespath.parser import ParsedResult

from .functions import known_function_arity

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_QUOTES = "'`\""


class ExpressionError(ValueError):
    """An expression that cannot be compiled; ``str()`` says why (no file/line: the loader adds those)."""


def _literal_end(expr: str, start: int) -> int:
    """Index just past the literal opening at ``start`` (backslash escapes honoured), or ``len(expr)``."""
    quote = expr[start]
    i = start + 1
    while i < len(expr):
        if expr[i] == "\\":
            i += 2
            continue
        if expr[i] == quote:
            return i + 1
        i += 1
    return len(expr)


def param_tokens(expr: str) -> Iterator[tuple[int, int, str]]:
    """``(start, end, name)`` of every ``$name`` token outside literals, in order."""
    i = 0
    while i < len(expr):
        ch = expr[i]
        if ch in _QUOTES:
            i = _literal_end(expr, i)
            continue
        if ch == "$":
            match = _NAME.match(expr, i + 1)
            if match:
                yield i, match.end(), match.group(0)
                i = match.end()
                continue
        i += 1


def json_literal(value: Any) -> str:
    """``value`` as a JMESPath JSON literal (backticks inside escaped)."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, allow_nan=False)
    return "`" + text.replace("`", "\\`") + "`"


def bind_params(expr: str, values: Mapping[str, Any]) -> str:
    """Replace each ``$name`` token by the JSON literal of ``values[name]``; ``KeyError`` if undeclared."""
    out: list[str] = []
    last = 0
    for start, end, name in param_tokens(expr):
        out.append(expr[last:start])
        out.append(json_literal(values[name]))
        last = end
    out.append(expr[last:])
    return "".join(out)


def _functions_used(node: Any) -> Iterator[tuple[str, int]]:
    """``(name, number of arguments)`` of every function call in a parsed JMESPath AST."""
    if isinstance(node, dict):
        if node.get("type") == "function_expression":
            yield str(node.get("value")), len(node.get("children") or [])
        for child in node.get("children") or []:
            yield from _functions_used(child)
    elif isinstance(node, list):
        for child in node:
            yield from _functions_used(child)


def _describe_parse_error(exc: JMESPathError) -> str:
    """JMESPath's reason with a column (of the bound expression), on one line."""
    if isinstance(exc, LexerError):
        return f"{exc.message} at column {exc.lexer_position}"
    if isinstance(exc, IncompleteExpressionError):
        return f"incomplete expression (ends at column {exc.lex_position})"
    if isinstance(exc, ParseError):
        return f"{exc.msg} at column {exc.lex_position}, token {exc.token_value!r}"
    if isinstance(exc, EmptyExpressionError):
        return "empty expression"
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


def compile_expression(expr: str) -> ParsedResult:
    """Parse an already-bound expression; unknown functions and wrong argument counts are refused here
    rather than on the first record. Raises :class:`ExpressionError` with JMESPath's own reason, or "nested
    too deeply" when the parser would exhaust Python's stack."""
    try:
        parsed = jmespath.compile(expr)
    except JMESPathError as exc:
        raise ExpressionError(f"invalid JMESPath: {_describe_parse_error(exc)}") from None
    except RecursionError:
        # jmespath's parser recurses once per nesting level ("((((...", "!!!!..."); Python's stack gives out
        # near 1000 levels, long before any real check.
        raise ExpressionError("invalid JMESPath: nested too deeply (parentheses, '!' or brackets)") from None
    arity = known_function_arity()
    try:
        used = list(_functions_used(parsed.parsed))
    except RecursionError:
        raise ExpressionError("invalid JMESPath: nested too deeply") from None
    for name, nargs in used:
        if name not in arity:
            raise ExpressionError(f"unknown function {name}() (known: {', '.join(sorted(arity))})")
        expected = arity[name]
        if expected is not None and expected != nargs:
            raise ExpressionError(f"function {name}() takes {expected} argument(s), got {nargs}")
    return parsed
