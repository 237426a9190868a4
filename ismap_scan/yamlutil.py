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


#: Largest YAML text :func:`load_yaml` parses (characters): configs, checks and statements are kilobytes;
#: parsing tens of megabytes takes a minute and is never a real input.
MAX_YAML_CHARS = 5 << 20
#: Most alias references (``*name``) one document may hold.
MAX_ALIASES = 10_000
#: Most nodes one document may hold once every alias is expanded: aliases are shared, not copied, by the
#: loader, but every consumer that walks the value (JSON-encoding params, hashing, validation) expands
#: them, so nine nested aliases of nine ("billion laughs") make a few hundred bytes cost gigabytes.
MAX_EXPANDED_NODES = 1_000_000


class YamlTooLarge(yaml.composer.ComposerError):
    """A document over :data:`MAX_YAML_CHARS`, :data:`MAX_ALIASES` or :data:`MAX_EXPANDED_NODES`."""


class _Loader(yaml.SafeLoader):
    """SafeLoader with limits on input size, alias count and alias-expanded size (YAML bombs)."""

    def __init__(self, stream: Any) -> None:
        if isinstance(stream, str | bytes) and len(stream) > MAX_YAML_CHARS:
            raise YamlTooLarge(
                None, None, f"the document is {len(stream)} characters, over the limit of {MAX_YAML_CHARS}"
            )
        super().__init__(stream)
        self._aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise YamlTooLarge(
                    None, None, f"too many aliases (YAML bomb?): more than {MAX_ALIASES}", mark
                )
        return super().compose_node(parent, index)

    def compose_document(self) -> Any:
        node = super().compose_document()
        if node is not None:
            _check_expanded_size(node)
        return node


def _check_expanded_size(root: yaml.Node) -> None:
    """Raise :class:`YamlTooLarge` when ``root`` expands (aliases copied out) to over
    :data:`MAX_EXPANDED_NODES` nodes. Sizes are memoised per node, so the walk costs the *unexpanded* size;
    iterative, so a deeply nested document cannot exhaust the stack here."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        if isinstance(node, yaml.SequenceNode):
            children: list[yaml.Node] = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            children = []
        if not children_done:
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
            continue
        size = 1 + sum(sizes.get(id(c), 1) for c in children)
        sizes[id(node)] = size
        if size > MAX_EXPANDED_NODES:
            raise YamlTooLarge(
                None,
                None,
                f"too many aliases (YAML bomb?): expanding them gives more than {MAX_EXPANDED_NODES} nodes",
                node.start_mark,
            )


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
    naming the file and line on unreadable files, syntax errors and duplicate keys, and for documents over
    the size limits (:data:`MAX_YAML_CHARS`, :data:`MAX_ALIASES`, :data:`MAX_EXPANDED_NODES`).
    """
    try:
        if text is None:
            size = Path(path).stat().st_size
            if size > MAX_YAML_CHARS:
                raise InputError(
                    f"file is {size} bytes, over the limit of {MAX_YAML_CHARS} for YAML", file=path
                )
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
    except RecursionError:
        raise InputError("invalid YAML: nested too deeply", file=path) from None


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
