"""The whitelist of named transforms and the compiler from a ``TransformSpec``.

Spec forms: a name (``trim``); a name with arguments (``{date: {format: "%d.%m.%Y"}}``);
a name with its main argument (``{date: "%d.%m.%Y"}``, ``{truncate: 80}``,
``{map: {CH: Switzerland}}``), further arguments then beside it
(``{map: {CH: Switzerland}, default: Other}`` — the first key names the transform);
or a list of those, a chain.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from app.sync.mapping.model import TransformSpec
from app.sync.mapping.transforms.base import Args, Chain, Identity, Transform, TransformError
from app.sync.mapping.transforms.dates import Date, DateTime
from app.sync.mapping.transforms.numbers import Boolean, Integer, Number
from app.sync.mapping.transforms.phone import Phone
from app.sync.mapping.transforms.text import (
    Case,
    Constant,
    Default,
    Domain,
    Join,
    Replace,
    Split,
    Trim,
    Truncate,
)
from app.sync.mapping.transforms.valuemap import ValueMap


@dataclass(frozen=True)
class _Entry:
    build: Callable[[Args], Transform]
    primary: str | None = None  # the argument a bare value stands for: {truncate: 80}
    primary_is_mapping: bool = False  # {map: {...}}: the mapping is the argument, not arguments


def _plain(transform: Callable[[], Transform]) -> _Entry:
    return _Entry(lambda _args: transform())


REGISTRY: Mapping[str, _Entry] = {
    "trim": _plain(Trim),
    "lower": _plain(lambda: Case("lower", str.lower)),
    "upper": _plain(lambda: Case("upper", str.upper)),
    "title": _plain(lambda: Case("title", str.title)),
    "truncate": _Entry(Truncate, "length"),
    "replace": _Entry(Replace),
    "default": _Entry(Default, "value"),
    "constant": _Entry(Constant, "value"),
    "domain": _plain(Domain),
    "split": _Entry(Split, "separator"),
    "join": _Entry(Join, "separator"),
    "number": _Entry(Number),
    "integer": _Entry(Integer),
    "boolean": _Entry(Boolean),
    "date": _Entry(Date, "format"),
    "datetime": _Entry(DateTime, "format"),
    "phone": _Entry(Phone, "region"),
    "map": _Entry(ValueMap, "values", primary_is_mapping=True),
}
TRANSFORM_NAMES = frozenset(REGISTRY)


def compile_transform(spec: TransformSpec | None) -> Transform:
    """Compile a spec into a ``Transform`` (None: the identity); ``TransformError`` if bad."""
    if spec is None:
        return Identity()
    if isinstance(spec, list):
        steps = [_compile_one(step) for step in spec]
        return Chain(steps) if steps else Identity()
    return _compile_one(spec)


def _compile_one(spec: object) -> Transform:
    arguments: dict[str, Any] = {}
    if isinstance(spec, str):
        name = spec
    elif isinstance(spec, dict) and spec:
        name, arguments = _named_arguments(spec)
    else:
        raise TransformError(repr(spec)[:40], "a transform is a name or a name with arguments")
    args = Args(name, arguments)
    transform = _entry(name).build(args)
    args.finish()
    return transform


def _entry(name: str) -> _Entry:
    if name not in REGISTRY:
        raise TransformError(name, f"unknown transform; known: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[name]


def _named_arguments(spec: dict[Any, Any]) -> tuple[str, dict[str, Any]]:
    name = next(iter(spec))
    if not isinstance(name, str):
        raise TransformError(repr(name), "a transform name must be text")
    value, entry = spec[name], _entry(name)
    rest = {str(k): v for k, v in spec.items() if k != name}
    if value is None:
        arguments: dict[str, Any] = {}
    elif isinstance(value, dict) and not entry.primary_is_mapping:
        arguments = {str(k): v for k, v in value.items()}
    elif entry.primary is not None:
        arguments = {entry.primary: value}
    else:
        raise TransformError(name, "takes named arguments ({argument: value, …})")
    twice = sorted(rest.keys() & arguments.keys())
    if twice:
        raise TransformError(name, "given twice", twice[0])
    return name, arguments | rest
