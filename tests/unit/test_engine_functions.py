"""The custom JMESPath functions and ``$param`` binding, called through real JMESPath expressions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jmespath
import pytest

from ismap_scan.engine.compile import ExpressionError, bind_params, compile_expression, param_tokens
from ismap_scan.engine.functions import CheckFunctions

NOW = datetime(2026, 11, 30, tzinfo=UTC)


def run(expr: str, data: Any = None, now: datetime | None = NOW) -> Any:
    return compile_expression(expr).search(
        data, options=jmespath.Options(custom_functions=CheckFunctions(now))
    )


@pytest.mark.parametrize(
    ("cidr", "expected"),
    [
        ("0.0.0.0/0", True),
        ("::/0", True),
        ("10.1.2.3/0", True),  # host bits ignored: still "any address"
        ("0.0.0.0/1", False),
        ("203.0.113.7/32", False),
        ("10.0.0.0/8", False),
        ("2001:db8::/32", False),
        (None, False),
    ],
)
def test_cidr_is_public(cidr: str | None, expected: bool) -> None:
    assert run("cidr_is_public(c)", {"c": cidr}) is expected


def test_cidr_is_public_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        run("cidr_is_public('not-a-cidr')")


@pytest.mark.parametrize(
    ("rule", "ports", "expected"),
    [
        ({"FromPort": 22, "ToPort": 22}, [22, 3389], True),
        ({"FromPort": 0, "ToPort": 1024}, [3389], False),
        ({"FromPort": 3000, "ToPort": 4000}, [22, 3389], True),
        ({"FromPort": 23, "ToPort": 3388}, [22, 3389], False),
        ({}, [22], True),  # IpProtocol -1: AWS leaves the ports out
        ({"FromPort": -1, "ToPort": -1}, [5432], True),
        ({"FromPort": 22, "ToPort": 22}, [], False),
        ({"FromPort": 22, "ToPort": 22}, None, False),
        ({"FromPort": 22, "ToPort": 22}, 22, True),
    ],
)
def test_port_in(rule: dict[str, int], ports: Any, expected: bool) -> None:
    assert run("port_in(r.FromPort, r.ToPort, p)", {"r": rule, "p": ports}) is expected


def test_port_in_rejects_non_numeric_ports() -> None:
    with pytest.raises(ValueError, match="ports must be numbers"):
        run("port_in(`1`, `100`, p)", {"p": ["22"]})


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        ("2026-11-29T23:59:59Z", 0),
        ("2026-11-29T00:00:00Z", 1),
        ("2026-09-01T00:00:00+00:00", 90),
        ("2026-09-01T09:00:00+09:00", 90),  # same instant in JST
        ("2026-08-31T12:00:00", 90),  # no zone = UTC; 90.5 days floors to 90
        ("2026-12-01T00:00:00Z", -1),
        ("N/A", None),
        ("no_information", None),
        ("not_supported", None),
        ("", None),
        (None, None),
    ],
)
def test_days_since_counts_from_collected_at(ts: str | None, expected: int | None) -> None:
    assert run("days_since(t)", {"t": ts}) == expected


def test_days_since_needs_a_time_and_a_timestamp() -> None:
    with pytest.raises(ValueError, match="collected_at"):
        run("days_since('2026-01-01T00:00:00Z')", now=None)
    with pytest.raises(ValueError):
        run("days_since('last tuesday')")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3, 3),
        (2.5, 2.5),
        ("14", 14),
        (" 7 ", 7),
        ("1.5", 1.5),
        ("N/A", None),
        (True, None),
        (None, None),
        ([1], None),
        ("nan", None),
    ],
)
def test_to_number_or_null(value: Any, expected: Any) -> None:
    assert run("to_number_or_null(v)", {"v": value}) == expected


def test_parse_json() -> None:
    assert run("parse_json(s).Statement[0].Effect", {"s": '{"Statement": [{"Effect": "Deny"}]}'}) == "Deny"
    assert run("parse_json(s)", {"s": {"already": "parsed"}}) == {"already": "parsed"}
    assert run("parse_json(s)", {"s": None}) is None


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ({"Statement": {"Effect": "Allow"}}, [{"Effect": "Allow"}]),
        ({"Statement": [{"Effect": "Allow"}, {"Effect": "Deny"}]}, [{"Effect": "Allow"}, {"Effect": "Deny"}]),
        ({"Version": "2012-10-17"}, []),
        (None, []),
        ('{"Statement": {"Sid": "s"}}', [{"Sid": "s"}]),
    ],
)
def test_statement_list(policy: Any, expected: list[Any]) -> None:
    assert run("statement_list(p)", {"p": policy}) == expected


def test_contains_any_and_as_list() -> None:
    assert run("contains_any(a, b)", {"a": ["x", "y"], "b": ["y"]}) is True
    assert run("contains_any(a, b)", {"a": "y", "b": ["y"]}) is True
    assert run("contains_any(a, b)", {"a": ["x"], "b": ["y"]}) is False
    assert run("contains_any(a, b)", {"a": None, "b": ["y"]}) is False
    assert run("contains_any(a, b)", {"a": ["y"], "b": None}) is False
    assert run("as_list(v)", {"v": "s3:GetObject"}) == ["s3:GetObject"]
    assert run("as_list(v)", {"v": ["*"]}) == ["*"]
    assert run("as_list(v)", {"v": None}) == []


def test_builtins_still_work() -> None:
    assert run("length(a) == `2` && contains(a, 'x')", {"a": ["x", "y"]}) is True


# --- $param binding -----------------------------------------------------------------------------------


def test_bind_params_replaces_tokens_with_json_literals() -> None:
    bound = bind_params(
        "days_since(d) <= $max_days && contains($ports, p)", {"max_days": 90, "ports": [22, 3389]}
    )
    assert bound == "days_since(d) <= `90` && contains(`[22, 3389]`, p)"


def test_dollar_inside_literals_is_left_alone() -> None:
    expr = "a == '$max' && b == `\"$max\"` && \"$max\" == $max && c == 'it\\'s $max'"
    assert [name for _s, _e, name in param_tokens(expr)] == ["max"]
    assert (
        bind_params(expr, {"max": 3})
        == "a == '$max' && b == `\"$max\"` && \"$max\" == `3` && c == 'it\\'s $max'"
    )
    data = {"a": "$max", "b": "$max", "$max": 3, "c": "it's $max"}
    assert compile_expression(bind_params(expr, {"max": 3})).search(data) is True


def test_bound_string_with_backtick_round_trips() -> None:
    value = "odd `value` with 'quotes'"
    assert compile_expression(bind_params("$v", {"v": value})).search({}) == value


def test_unknown_param_raises_key_error() -> None:
    with pytest.raises(KeyError):
        bind_params("$missing > `1`", {})


def test_compile_expression_errors_are_one_line() -> None:
    with pytest.raises(ExpressionError, match=r"^invalid JMESPath: Unknown token \$ at column 5$"):
        compile_expression("a == $")
    with pytest.raises(ExpressionError, match=r"^unknown function nope\(\)"):
        compile_expression("nope(a)")
