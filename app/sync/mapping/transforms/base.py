"""The transform contract, its errors, the empty-value rule and argument checking.

A transform turns one source value into the value HubSpot gets (``forward``) and,
where that can be undone, a HubSpot value back into the source's form (``reverse``).

The empty-value rule: ``None`` and ``""`` are *empty*. Every transform returns an
empty value unchanged, in both directions, except ``default``, which replaces it.
The parsing transforms (number, integer, boolean, date, datetime, phone) also read
whitespace-only text as empty and return ``""`` for it.

Lists (a split value, a multi-select) go through the scalar transforms element by
element; ``split`` and ``join`` are the ones that make and unmake them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")
D = TypeVar("D")
Scalar = str | int | float | bool


class OutputType(enum.StrEnum):
    """The kind of value a transform produces, to compare with the HubSpot property type."""

    string = "string"
    number = "number"
    integer = "integer"
    boolean = "boolean"
    date = "date"
    datetime = "datetime"
    enumeration = "enumeration"  # a closed set of strings: see ``Transform.output_values``


class TransformError(ValueError):
    """A transform spec that cannot be compiled: unknown name or bad argument."""

    def __init__(self, transform: str, message: str, argument: str | None = None) -> None:
        self.transform = transform
        self.argument = argument
        where = f"{transform}.{argument}" if argument else transform
        super().__init__(f"transform {where}: {message}")


class TransformValueError(ValueError):
    """A value a transform cannot convert; the record fails, the run goes on."""

    def __init__(self, transform: str, value: object, message: str) -> None:
        self.transform = transform
        self.value = value
        super().__init__(f"{transform}: {message} ({value!r})")


def is_empty(value: object) -> bool:
    """Whether ``value`` is empty under the empty-value rule (``None`` or ``""``)."""
    return value is None or value == ""


def is_blank(value: object) -> bool:
    """Empty, or text that is only whitespace (empty to the parsing transforms)."""
    return is_empty(value) or (isinstance(value, str) and not value.strip())


class Transform:
    """A compiled transform: ``forward`` to HubSpot, ``reverse`` back where one exists.

    Subclasses implement ``_forward`` / ``_reverse`` for one non-empty scalar; the
    empty-value rule and the element-wise handling of lists live here.
    """

    name: str = "transform"
    reversible: bool = False
    # None: the transform keeps the kind of its input (a chain then reports the previous step's).
    output_type: OutputType | None = None
    # For a closed set of results (map, constant, boolean): the values HubSpot may receive.
    output_values: frozenset[str] | None = None
    # Parsers read whitespace-only text as empty and give "" for it.
    blank_is_empty: bool = False

    def forward(self, value: object) -> object:
        """Source value → HubSpot value."""
        return self._each(value, self._forward)

    def reverse(self, value: object) -> object:
        """HubSpot value → source value; ``TransformError`` if there is no reverse."""
        if not self.reversible:
            raise TransformError(self.name, "has no reverse, so it cannot flow from HubSpot")
        return self._each(value, self._reverse)

    def values_after(self, values: frozenset[str] | None) -> frozenset[str] | None:
        """The closed set of results given the previous step's closed set (None: open)."""
        if self.output_values is not None or values is None:
            return self.output_values
        try:
            return frozenset(str(self.forward(v)) for v in values)
        except TransformValueError:
            return None

    def _each(self, value: object, one: Callable[[object], object]) -> object:
        if is_empty(value):
            return value
        if self.blank_is_empty and is_blank(value):
            return ""
        if isinstance(value, list | tuple):
            return [self._each(v, one) for v in value]
        return one(value)

    def _forward(self, value: object) -> object:
        raise NotImplementedError

    def _reverse(self, value: object) -> object:
        return value  # normalising transforms: a HubSpot value is already normal

    def _reject(self, value: object, message: str) -> TransformValueError:
        return TransformValueError(self.name, value, message)


class Args:
    """A transform's arguments, read with type checks; unknown ones are refused."""

    def __init__(self, transform: str, values: Mapping[str, Any]) -> None:
        self.transform = transform
        self._values = dict(values)
        self._read: set[str] = set()

    def get(self, name: str, kind: type[T], default: D) -> T | D:
        """The argument ``name`` if given (checked against ``kind``), else ``default``."""
        value = self._given(name, (kind,))
        return default if value is None else value  # type: ignore[return-value]

    def scalar(self, name: str, default: D) -> Scalar | D:
        """A text, number or true/false argument if given, else ``default``."""
        value = self._given(name, (str, int, float, bool))
        return default if value is None else value  # type: ignore[return-value]

    def require(self, name: str, kind: type[T]) -> T:
        """The argument ``name``, which must be given."""
        value = self.get(name, kind, None)
        if value is None:
            raise self.error(name, "is required")
        return value

    def require_scalar(self, name: str) -> Scalar:
        """A text, number or true/false argument, which must be given."""
        value = self.scalar(name, None)
        if value is None:
            raise self.error(name, "is required")
        return value

    def _given(self, name: str, kinds: tuple[type, ...]) -> object:
        self._read.add(name)
        value = self._values.get(name)
        if value is None:
            return None
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise self.error(name, f"must be {_kind_name(kinds)}, not {type(value).__name__}")
        return value

    def choice(self, name: str, options: Iterable[str], default: str) -> str:
        """A string argument that must be one of ``options``."""
        value = self.get(name, str, default)
        allowed = sorted(options)
        if value not in allowed:
            raise self.error(name, f"must be one of {', '.join(allowed)}, not {value!r}")
        return value

    def error(self, argument: str, message: str) -> TransformError:
        """A ``TransformError`` for one argument of this transform."""
        return TransformError(self.transform, message, argument)

    def finish(self) -> None:
        """Refuse arguments the transform did not read (typos, wrong transform)."""
        unknown = sorted(set(self._values) - self._read)
        if unknown:
            raise self.error(unknown[0], "unknown argument")


def _kind_name(kinds: tuple[type, ...]) -> str:
    names = {"str": "text", "int": "a whole number", "bool": "true or false", "dict": "a mapping"}
    return " or ".join(names.get(k.__name__, k.__name__) for k in kinds)


class Identity(Transform):
    """No transform: the value as it is, both ways."""

    name = "identity"
    reversible = True

    def _forward(self, value: object) -> object:
        return value


class Chain(Transform):
    """Steps applied in order; the reverse undoes them in reverse order."""

    def __init__(self, steps: list[Transform]) -> None:
        self.steps = steps
        self.name = " → ".join(s.name for s in steps)
        self.reversible = all(s.reversible for s in steps)
        self.output_type = next((s.output_type for s in reversed(steps) if s.output_type), None)
        values: frozenset[str] | None = None
        for step in steps:
            values = step.values_after(values)
        self.output_values = values

    def forward(self, value: object) -> object:
        """Source value → HubSpot value, through every step."""
        for step in self.steps:
            value = step.forward(value)
        return value

    def reverse(self, value: object) -> object:
        """HubSpot value → source value, through every step's reverse, last step first."""
        if not self.reversible:
            blocking = next(s for s in self.steps if not s.reversible)
            raise TransformError(blocking.name, "has no reverse, so the chain cannot either")
        for step in reversed(self.steps):
            value = step.reverse(value)
        return value
