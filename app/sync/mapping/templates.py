"""Sandboxed Jinja2 templates for derived values, such as ``{{ first_name }} {{ last_name }}``.

A template sees only the record's fields and a few safe filters. It is checked when
compiled: no loops, macros, imports, calls, ``*``/``**``/``%`` (their output could
explode) and no attribute starting with ``_``; at render time the immutable sandbox
refuses internals anyway, and the output is capped. ``None`` renders as ``""``, and
the result is stripped of surrounding whitespace. Templates flow to HubSpot only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.filters import do_truncate
from jinja2.meta import find_undeclared_variables
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_OUTPUT = 65_536  # HubSpot's limit for a text property value
_ALLOWED_NODES = (
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Const,
    nodes.Getattr, nodes.Getitem, nodes.Slice, nodes.Filter, nodes.Test, nodes.Keyword,
    nodes.If, nodes.CondExpr, nodes.And, nodes.Or, nodes.Not, nodes.Compare, nodes.Operand,
    nodes.Concat, nodes.Add, nodes.Sub, nodes.Div, nodes.FloorDiv, nodes.Neg, nodes.Pos,
    nodes.List, nodes.Tuple,
)  # fmt: skip


class TemplateError(ValueError):
    """A template that does not compile, or a record it cannot be rendered for."""

    def __init__(self, template: str, message: str, variable: str | None = None) -> None:
        self.template = template
        self.variable = variable
        super().__init__(f"template {template!r}: {message}")


def _default(value: object, fallback: object = "") -> object:
    """Jinja ``default``, also for ``None`` and ``""`` (the transforms' empty-value rule)."""
    return fallback if isinstance(value, Undefined) or value is None or value == "" else value


def _replace(value: object, old: str, new: str) -> str:
    """Jinja ``replace``, refused where the result would exceed the output cap."""
    text = str(value)
    if len(text) + text.count(old) * (len(new) - len(old)) > MAX_OUTPUT:
        raise SecurityError("replace would exceed the output limit")
    return text.replace(old, new)


def _join(value: object, separator: str = "") -> str:
    """Jinja ``join`` for a list of field values (empty ones left out)."""
    items = value if isinstance(value, list | tuple) else [value]
    return separator.join(str(v) for v in items if v is not None and v != "")


def _environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        autoescape=False,
        undefined=StrictUndefined,
        finalize=lambda value: "" if value is None else value,
        keep_trailing_newline=False,
    )
    env.globals.clear()
    safe = {"trim", "upper", "lower", "title", "capitalize", "length", "first", "last",
            "string", "int", "float", "round", "abs"}  # fmt: skip
    env.filters = {name: env.filters[name] for name in safe}
    env.filters |= {"default": _default, "d": _default, "replace": _replace, "join": _join,
                    "truncate": do_truncate}  # fmt: skip
    return env


_ENV = _environment()


class Template:
    """A compiled template: compile once per mapping version, ``render`` per record."""

    def __init__(self, source: str) -> None:
        self.source = source
        try:
            tree = _ENV.parse(source)
        except TemplateSyntaxError as exc:
            raise TemplateError(source, f"line {exc.lineno}: {exc.message}") from None
        _check(source, tree)
        self.variables = frozenset(find_undeclared_variables(tree))
        self._compiled = _ENV.from_string(tree)

    def render(self, record: Mapping[str, Any]) -> str:
        """The template's text for one record; ``TemplateError`` naming what is missing."""
        missing = sorted(self.variables - record.keys())
        if missing:
            raise TemplateError(self.source, f"no field {missing[0]!r} in the record", missing[0])
        try:
            return _capped(self.source, self._compiled.generate(record)).strip()
        except TemplateError:
            raise
        except (UndefinedError, SecurityError, TypeError, ValueError, ArithmeticError) as exc:
            raise TemplateError(self.source, str(exc)) from None


def compile_template(source: str) -> Template:
    """Compile a template; ``TemplateError`` for syntax or anything the sandbox refuses."""
    return Template(source)


def _check(source: str, tree: nodes.Template) -> None:
    for node in tree.find_all(nodes.Node):
        if not isinstance(node, _ALLOWED_NODES):
            raise TemplateError(
                source,
                f"line {node.lineno}: {type(node).__name__} is not allowed in a mapping template",
            )
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            raise TemplateError(source, f"line {node.lineno}: no access to {node.attr!r}")
        if isinstance(node, nodes.Filter) and node.name not in _ENV.filters:
            raise TemplateError(source, f"line {node.lineno}: unknown filter {node.name!r}")


def _capped(source: str, chunks: Iterator[str]) -> str:
    parts: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_OUTPUT:
            raise TemplateError(source, f"output longer than {MAX_OUTPUT} characters")
        parts.append(chunk)
    return "".join(parts)
