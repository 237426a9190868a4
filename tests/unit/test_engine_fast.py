"""engine/fast.py gives exactly what jmespath's tree interpreter gives: every bundled check expression on
every case-file record, and the edge cases of the JMESPath spec that the closures re-implement."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jmespath
import pytest

from ismap_scan.engine import load_checks
from ismap_scan.engine.casetest import find_case_files, load_case_file
from ismap_scan.engine.fast import Runtime, search
from ismap_scan.engine.functions import CheckFunctions, now_of

ROOT = Path(__file__).resolve().parents[2]
NOW = now_of("2026-11-30T00:00:00Z")


def _both(expr: Any, data: Any) -> tuple[tuple[str, Any], tuple[str, Any]]:
    """(kind, value) from the interpreter and from the closures; kind is "ok" or the exception type."""
    functions = CheckFunctions(NOW)
    out = []
    for run in (
        lambda: expr.search(data, options=jmespath.Options(custom_functions=functions)),
        lambda: search(expr, data, Runtime.of(functions)),
    ):
        try:
            out.append(("ok", run()))
        except Exception as exc:  # the same exception type must come out of both
            out.append((type(exc).__name__, None))
    return out[0], out[1]


EDGE_DATA = {
    "a": {"b": [1, 0, True, False, None, "", [], {}, "x", 2.5], "c": {"d": 1, "e": None}},
    "n": 0,
    "one": 1,
    "t": True,
    "s": "abc",
    "l": [{"k": "x", "v": [1, [2, 3]]}, {"k": "y", "v": None}, {"k": "x"}, 5],
}
EDGE_EXPRESSIONS = [
    "a.b",
    "a.b[0]",
    "a.b[-1]",
    "a.b[42]",
    "a.b[1:3]",
    "a.b[::-1]",
    "s[0]",
    "a.b[*]",
    "a.b[]",
    "l[].v[]",
    "l[*].v",
    "l[?k == 'x'].v",
    "l[?k == 'x'] | [0].v",
    "l[?v]",
    "a.c.*",
    "a.*.d",
    "n == `false`",
    "one == `true`",
    "one == `1.0`",
    "n != `false`",
    "t == `true`",
    "s < 'b'",
    "n < `1`",
    "t < `1`",
    "a < `1`",
    "!n",
    "!a.b[4]",
    "!s",
    "n || 'fallback'",
    "a.b[5] || a.b[6] || a.b[7] || 'last'",
    "n && 'yes'",
    "s && 'yes'",
    "[s, n, missing]",
    "{x: s, y: a.c.d}",
    "missing.[a, b]",
    "missing.{a: a}",
    "@",
    "`[1, 2]`",
    "'raw'",
    "length(a.b)",
    "sort_by(l[?k], &k)[*].k",
    "max_by(l[?k], &k).k",
    "length(n)",
    "contains_any(['x'], l[].k)",
    "as_list(s)",
    "days_since('2026-11-01T00:00:00Z')",
    "days_since('not a time')",
    "port_in(`22`, `22`, `[22, 3389]`)",
    "cidr_is_public('0.0.0.0/0')",
    "cidr_is_public('nonsense')",
    "a.c | d",
    "l[?k == 'x'].v[]",
]


@pytest.mark.parametrize("text", EDGE_EXPRESSIONS)
def test_edge_cases_match_the_interpreter(text: str) -> None:
    want, got = _both(jmespath.compile(text), EDGE_DATA)
    assert got == want
    if want[0] == "ok":
        assert type(got[1]) is type(want[1])


def test_every_bundled_expression_on_every_case_record() -> None:
    checks = load_checks()
    expressions = []
    for check in checks:
        expressions += [e for e in (check.compiled_applies, check.compiled_assert) if e is not None]
        expressions += list(check.compiled_evidence)
    records = [
        rec for path in find_case_files([ROOT / "tests" / "checks"]) for rec in load_case_file(path).records
    ]
    assert expressions and records
    compared = 0
    for rec in records:
        root = {"resource": rec.to_dict(), "data": rec.data, "account": rec.data, "region": rec.data}
        for expr in expressions:
            want, got = _both(expr, root)
            assert got == want, (expr.expression, rec.id)
            compared += 1
    assert compared > 1000
