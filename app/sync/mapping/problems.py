"""What is wrong with a mapping table, located so a person can fix it.

Every check on a mapping file (YAML syntax, the pydantic model, both sides'
real schemas) reports ``MappingProblem`` values that name the object mapping,
the field and the line; ``MappingError`` carries all of them at once. A
``Locator`` finds the line of any path (``objects.1.fields.3.transform``) in
the composed YAML node tree, so problems found on parsed data keep their line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

Path = tuple[str | int, ...]
LineOf = Callable[[Path], int | None]


@dataclass(frozen=True, slots=True)
class MappingProblem:
    """One problem: which object mapping, which field, which line, and what is wrong."""

    object: str | None
    field: str | None
    line: int | None
    message: str

    def describe(self, source_name: str = "mapping.yaml") -> str:
        """The problem as one line: ``mapping.yaml:14: contacts › email: …``."""
        where = source_name if self.line is None else f"{source_name}:{self.line}"
        subject = " › ".join(part for part in (self.object, self.field) if part)
        return f"{where}: {subject}: {self.message}" if subject else f"{where}: {self.message}"


class MappingError(ValueError):
    """A mapping file that cannot be used, with every problem found in it."""

    def __init__(
        self, problems: Iterable[MappingProblem], *, source_name: str = "mapping.yaml"
    ) -> None:
        self.problems = sorted(problems, key=lambda p: p.line or 0)
        self.source_name = source_name
        super().__init__(self.describe())

    def describe(self) -> str:
        """All problems, one per line, in file order."""
        return "\n".join(p.describe(self.source_name) for p in self.problems)


class Locator:
    """Line numbers of a composed YAML document, looked up by a path of keys and indexes."""

    def __init__(self, root: yaml.Node | None, prefix: Path = ()) -> None:
        self._root = root
        self._prefix = prefix

    def within(self, *prefix: str | int) -> Locator:
        """A locator for the sub-document at ``prefix`` (paths are then relative to it)."""
        return Locator(self._root, (*self._prefix, *prefix))

    def line(self, path: Sequence[str | int]) -> int | None:
        """The 1-based line of the deepest node on ``path`` (a key's own line for mappings)."""
        if self._root is None:
            return None
        node, mark = self._root, self._root.start_mark
        for step in (*self._prefix, *path):
            found = _child(node, step)
            if found is None:
                break
            node, mark = found
        return mark.line + 1


def _child(node: yaml.Node, step: str | int) -> tuple[yaml.Node, yaml.Mark] | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(step):
                return value, key.start_mark
    if isinstance(node, yaml.SequenceNode):
        item = _item(node.value, step)
        if isinstance(item, yaml.Node):
            return item, item.start_mark
    return None


def validation_problems(
    error: ValidationError, data: Any, locator: Locator, *, table_at: Path = ()
) -> list[MappingProblem]:
    """``error`` as located problems; ``table_at`` is where the mapping table sits in ``data``.

    Errors are grouped by the deepest location that exists in the data, so the
    several branch errors of one union value (a transform) become one problem.
    """
    groups: dict[Path, list[str]] = {}
    for detail in error.errors():
        messages = groups.setdefault(_data_path(data, detail), [])
        if (message := _message(detail)) not in messages:
            messages.append(message)
    return [
        _problem(path, "; or ".join(messages), data, locator, table_at)
        for path, messages in groups.items()
    ]


def _data_path(data: Any, detail: ErrorDetails) -> Path:
    path: list[str | int] = []
    node = data
    for step in detail["loc"]:
        node = _item(node, step)
        if node is _ABSENT:
            if detail["type"] == "missing" and step == detail["loc"][-1]:
                path.append(step)
            break
        path.append(step)
    return tuple(path)


_ABSENT = object()


def _item(container: Any, step: str | int) -> Any:
    """``container[step]`` for raw YAML data (mappings and lists), or ``_ABSENT``."""
    if isinstance(container, Mapping):
        return container.get(step, _ABSENT)
    if isinstance(container, list) and isinstance(step, int) and 0 <= step < len(container):
        return container[step]
    return _ABSENT


def _message(detail: ErrorDetails) -> str:
    return detail["msg"].removeprefix("Value error, ")


def _problem(
    path: Path, message: str, data: Any, locator: Locator, table_at: Path
) -> MappingProblem:
    line = locator.line(path)
    if path[: len(table_at)] != table_at:
        return MappingProblem(None, dotted(path) or None, line, message)
    table = _at(data, table_at)
    name, field, detail = _describe_path(table, path[len(table_at) :])
    return MappingProblem(name, field, line, f"{detail}: {message}" if detail else message)


def _at(data: Any, path: Path) -> Any:
    for step in path:
        data = _item(data, step)
    return data


def _describe_path(table: Any, path: Path) -> tuple[str | None, str | None, str]:
    """(object name, field name, rest of the path) for a path inside raw mapping-table data."""
    if len(path) < 2 or path[0] != "objects" or not isinstance(path[1], int):
        return None, None, dotted(path)
    raw = _item(_item(table, "objects"), path[1])
    name = _label(raw, ("name",), f"objects[{path[1]}]")
    rest = path[2:]
    if len(rest) >= 2 and rest[0] == "fields" and isinstance(rest[1], int):
        rule = _item(_item(raw, "fields"), rest[1])
        return name, _label(rule, ("hubspot", "source"), f"fields[{rest[1]}]"), dotted(rest[2:])
    return name, dotted(rest) or None, ""


def _label(raw: Any, keys: Sequence[str], fallback: str) -> str:
    if isinstance(raw, Mapping):
        for key in keys:
            if isinstance(raw.get(key), str) and raw[key]:
                return str(raw[key])
    return fallback


def dotted(path: Sequence[str | int]) -> str:
    """A path as people write it: ``source.key``, ``filters[1].in``."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else f".{step}"
    return text.removeprefix(".")
