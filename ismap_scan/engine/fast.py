"""Compile a parsed JMESPath expression into nested Python closures, once per check.

Why: ``ParsedResult.search`` walks the AST with ``jmespath``'s ``TreeInterpreter`` on every call — a dict
lookup and a method dispatch per node per record. Profiling the engine on 100,000 records (benchmarks/
bench_engine.py) put about 75 % of the evaluation time in that walk. The closures below do the same work
without the dispatch, 3-4x faster.

Semantics are the interpreter's, node type by node type (``jmespath/visitor.py``, jmespath 1.0): the same
comparisons (``0``/``1`` never equal booleans; ordering only between numbers or strings), the same
JMESPath falsiness (``""``, ``[]``, ``{}``, ``null``, ``false``), projections dropping ``null``, and
functions called through the same :class:`~jmespath.functions.Functions` object (type checks and errors
unchanged). A node type this module does not know is handed to the tree interpreter, so an expression
is never evaluated differently, only faster. ``tests/unit/test_engine_fast.py`` compares both on every
bundled check expression and on the edge cases.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Number
from typing import Any, cast
from weakref import WeakKeyDictionary

from jmespath.functions import Functions
from jmespath.parser import ParsedResult
from jmespath.visitor import Options, TreeInterpreter, _Expression


@dataclass
class Runtime:
    """What a compiled expression needs besides the data: the functions (``now`` lives there) and a tree
    interpreter for expression references (``sort_by(list, &key)``) and unknown node types."""

    functions: Functions
    interpreter: TreeInterpreter

    @classmethod
    def of(cls, functions: Functions) -> Runtime:
        return cls(functions, TreeInterpreter(Options(custom_functions=functions)))


Fn = Callable[[Any, Runtime], Any]

_COMPILED: WeakKeyDictionary[ParsedResult, Fn] = WeakKeyDictionary()


def compiled(expr: ParsedResult) -> Fn:
    """The closure for ``expr`` (cached for the expression object's lifetime)."""
    fn = _COMPILED.get(expr)
    if fn is None:
        fn = _compile(cast(dict[str, Any], expr.parsed))
        _COMPILED[expr] = fn
    return fn


def search(expr: ParsedResult, data: Any, rt: Runtime) -> Any:
    """``expr.search(data)`` with the runtime's functions; same result, same exceptions."""
    return compiled(expr)(data, rt)


def _is_false(value: Any) -> bool:
    return value == "" or value == [] or value == {} or value is None or value is False


def _is_number(x: Any) -> bool:
    return not isinstance(x, bool) and isinstance(x, Number)


def _equals(x: Any, y: Any) -> bool:
    if _is_number(x) and x in (0, 1):
        if isinstance(y, bool):
            return False
    elif _is_number(y) and y in (0, 1) and isinstance(x, bool):
        return False
    return x == y


def _comparable(x: Any) -> bool:
    return _is_number(x) or isinstance(x, str)


_ORDERING = {"lt": operator.lt, "gt": operator.gt, "lte": operator.le, "gte": operator.ge}


def _compile(node: dict[str, Any]) -> Fn:
    kind = node["type"]
    children = node.get("children") or []

    if kind == "field":
        key = node["value"]

        def field(value: Any, rt: Runtime) -> Any:
            try:
                return value.get(key)
            except AttributeError:
                return None

        return field

    if kind in ("subexpression", "index_expression", "pipe"):
        steps = [_compile(c) for c in children]
        if len(steps) == 2:
            first, second = steps

            def chain2(value: Any, rt: Runtime) -> Any:
                return second(first(value, rt), rt)

            return chain2

        def chain(value: Any, rt: Runtime) -> Any:
            for step in steps:
                value = step(value, rt)
            return value

        return chain

    if kind in ("current", "identity"):
        return lambda value, rt: value

    if kind == "literal":
        literal = node["value"]
        return lambda value, rt: literal

    if kind == "comparator":
        left, right = _compile(children[0]), _compile(children[1])
        op = node["value"]
        if op == "eq":
            return lambda value, rt: _equals(left(value, rt), right(value, rt))
        if op == "ne":
            return lambda value, rt: not _equals(left(value, rt), right(value, rt))
        ordering = _ORDERING[op]

        def compare(value: Any, rt: Runtime) -> Any:
            a, b = left(value, rt), right(value, rt)
            if not (_comparable(a) and _comparable(b)):
                return None
            return ordering(a, b)

        return compare

    if kind == "or_expression":
        left, right = _compile(children[0]), _compile(children[1])

        def or_(value: Any, rt: Runtime) -> Any:
            matched = left(value, rt)
            if _is_false(matched):
                matched = right(value, rt)
            return matched

        return or_

    if kind == "and_expression":
        left, right = _compile(children[0]), _compile(children[1])

        def and_(value: Any, rt: Runtime) -> Any:
            matched = left(value, rt)
            if _is_false(matched):
                return matched
            return right(value, rt)

        return and_

    if kind == "not_expression":
        inner = _compile(children[0])

        def not_(value: Any, rt: Runtime) -> Any:
            result = inner(value, rt)
            if _is_number(result) and result == 0:
                return False
            return not result

        return not_

    if kind == "index":
        index = node["value"]

        def index_(value: Any, rt: Runtime) -> Any:
            if not isinstance(value, list):
                return None
            try:
                return value[index]
            except IndexError:
                return None

        return index_

    if kind == "function_expression":
        name = node["value"]
        args = [_compile(c) for c in children]

        def call(value: Any, rt: Runtime) -> Any:
            return rt.functions.call_function(name, [a(value, rt) for a in args])

        return call

    if kind == "expref":
        ref = children[0]
        return lambda value, rt: _Expression(ref, rt.interpreter)

    if kind in ("projection", "filter_projection", "value_projection", "flatten"):
        return _compile_projection(kind, children)

    if kind in ("multi_select_list", "multi_select_dict"):
        return _compile_multi_select(kind, children)

    # slice, key_val_pair or anything newer: the interpreter's own code for this subtree.
    def interpreted(value: Any, rt: Runtime) -> Any:
        return rt.interpreter.visit(cast(Any, node), value)

    return interpreted


def _compile_projection(kind: str, children: list[Any]) -> Fn:
    base = _compile(children[0])
    if kind == "flatten":

        def flatten(value: Any, rt: Runtime) -> Any:
            items = base(value, rt)
            if not isinstance(items, list):
                return None
            merged: list[Any] = []
            for element in items:
                if isinstance(element, list):
                    merged.extend(element)
                else:
                    merged.append(element)
            return merged

        return flatten

    if kind == "filter_projection":
        right, condition = _compile(children[1]), _compile(children[2])

        def filter_(value: Any, rt: Runtime) -> Any:
            items = base(value, rt)
            if not isinstance(items, list):
                return None
            out = []
            for element in items:
                if not _is_false(condition(element, rt)):
                    current = right(element, rt)
                    if current is not None:
                        out.append(current)
            return out

        return filter_

    right = _compile(children[1])
    if kind == "value_projection":

        def values(value: Any, rt: Runtime) -> Any:
            try:
                items = base(value, rt).values()
            except AttributeError:
                return None
            out = []
            for element in items:
                current = right(element, rt)
                if current is not None:
                    out.append(current)
            return out

        return values

    def project(value: Any, rt: Runtime) -> Any:
        items = base(value, rt)
        if not isinstance(items, list):
            return None
        out = []
        for element in items:
            current = right(element, rt)
            if current is not None:
                out.append(current)
        return out

    return project


def _compile_multi_select(kind: str, children: list[Any]) -> Fn:
    if kind == "multi_select_list":
        parts = [_compile(c) for c in children]

        def as_list(value: Any, rt: Runtime) -> Any:
            if value is None:
                return None
            return [p(value, rt) for p in parts]

        return as_list

    pairs = [(c["value"], _compile(c["children"][0])) for c in children]

    def as_dict(value: Any, rt: Runtime) -> Any:
        if value is None:
            return None
        return {key: p(value, rt) for key, p in pairs}

    return as_dict
