"""Reading mapping tables and interface files from YAML, safely and with located errors.

A file is refused before anything is built from it when it is too large or
uses anchors or aliases (the "billion laughs" expansion; SECURITY.md §4): the
parser's events are scanned first. Only then is the node tree composed and
constructed by PyYAML's safe loader, and validated by the pydantic models.
Every problem, whatever stage finds it, is a ``MappingProblem`` with a line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Self, TypeVar

import yaml
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator

from app.models.interface import MAX_INTERVAL_MINUTES, MIN_INTERVAL_MINUTES
from app.sync.mapping.model import FieldRule, MappingTable, Name, Strict
from app.sync.mapping.problems import (
    Locator,
    MappingError,
    MappingProblem,
    Path,
    dotted,
    validation_problems,
)
from app.sync.mapping.templates import TemplateError, compile_template
from app.sync.mapping.transforms import TransformError, compile_transform
from app.sync.tenants import SLUG_PATTERN

MAX_FILE_BYTES = 512 * 1024
MAX_DEPTH = 20  # a mapping table needs 6; the composer recurses per level
DEFAULT_HUBSPOT_URL = "https://api.hubapi.com"
M = TypeVar("M", bound=BaseModel)
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class SourceConnection(Strict):
    """The third-party system: a registered connector and its settings."""

    connector: Name
    config: dict[str, Any] = Field(default_factory=dict, repr=False)  # may hold secrets


class HubSpotConnection(Strict):
    """The HubSpot portal: a private-app token, or an existing (OAuth) connection by name."""

    base_url: Annotated[str, Field(max_length=500, pattern=r"^https?://[^\s]+$")] = (
        DEFAULT_HUBSPOT_URL
    )
    access_token: SecretStr | None = Field(default=None, max_length=1000)
    connection: Name | None = None

    @model_validator(mode="after")
    def _one_credential(self) -> Self:
        if (self.access_token is None) == (self.connection is None):
            raise ValueError("give exactly one of `access_token` and `connection`")
        return self


class InterfaceFile(Strict):
    """Everything ``hubsync interface apply`` needs: tenant, schedule, both ends, mapping."""

    tenant: Annotated[str, Field(pattern=SLUG_PATTERN.pattern)]
    name: Annotated[str, Field(min_length=1, max_length=100)]
    interval_minutes: int = Field(
        default=15,
        json_schema_extra={"minimum": MIN_INTERVAL_MINUTES, "maximum": MAX_INTERVAL_MINUTES},
    )
    source: SourceConnection
    hubspot: HubSpotConnection
    mapping: MappingTable

    @field_validator("interval_minutes")
    @classmethod
    def _interval_in_range(cls, minutes: int) -> int:
        if not MIN_INTERVAL_MINUTES <= minutes <= MAX_INTERVAL_MINUTES:
            raise ValueError(
                f"interval_minutes must be between {MIN_INTERVAL_MINUTES} and "
                f"{MAX_INTERVAL_MINUTES}, got {minutes}"
            )
        return minutes


@dataclass(frozen=True, slots=True)
class LoadedMapping:
    """A valid mapping table and where its parts are in the file (for later checks)."""

    table: MappingTable
    locator: Locator  # paths relative to the table: ("objects", 0, "fields", 2, "source")


@dataclass(frozen=True, slots=True)
class LoadedInterface:
    """A valid interface file and where its parts are in the file."""

    interface: InterfaceFile
    locator: Locator  # paths relative to the file; ``.within("mapping")`` for the table


def load_mapping(text: str, *, source_name: str = "mapping.yaml") -> MappingTable:
    """A mapping table from YAML (bare, or the ``mapping:`` of an interface file)."""
    return read_mapping(text, source_name=source_name).table


def read_mapping(text: str, *, source_name: str = "mapping.yaml") -> LoadedMapping:
    """Like ``load_mapping``, keeping the locator that schema checks report lines with."""
    data, locator = _read_yaml(text, source_name)
    if "mapping" in data:
        data, locator = data["mapping"], locator.within("mapping")
    table = _validate(MappingTable, data, locator, source_name)
    problems = compile_problems(table, locator)
    if problems:
        raise MappingError(problems, source_name=source_name)
    return LoadedMapping(table, locator)


def compile_problems(table: MappingTable, locator: Locator) -> list[MappingProblem]:
    """A problem for each transform or template that does not compile (or the sandbox refuses)."""
    problems: list[MappingProblem] = []
    for i, mapping in enumerate(table.objects):
        for j, rule in enumerate(mapping.fields):
            for key, message in _compile_errors(rule):
                line = locator.line(("objects", i, "fields", j, key))
                problems.append(MappingProblem(mapping.name, rule.hubspot, line, message))
    return problems


def _compile_errors(rule: FieldRule) -> Iterator[tuple[str, str]]:
    try:
        compile_transform(rule.transform)
    except TransformError as exc:
        yield "transform", str(exc)
    if rule.template is not None:
        try:
            compile_template(rule.template)
        except TemplateError as exc:
            yield "template", str(exc)


def load_interface_file(
    text: str, *, environ: Mapping[str, str] | None = None, source_name: str = "interface.yaml"
) -> InterfaceFile:
    """An interface file, ``${VAR}`` references outside ``mapping`` resolved from ``environ``."""
    return read_interface_file(text, environ=environ, source_name=source_name).interface


def read_interface_file(
    text: str, *, environ: Mapping[str, str] | None = None, source_name: str = "interface.yaml"
) -> LoadedInterface:
    """Like ``load_interface_file``, keeping the locator (``environ`` defaults to os.environ)."""
    data, locator = _read_yaml(text, source_name)
    env = os.environ if environ is None else environ
    unset: list[tuple[Path, str]] = []
    resolved = {
        key: value if key == "mapping" else _resolve(value, env, (key,), unset)
        for key, value in data.items()
    }
    missing = [
        MappingProblem(
            None, dotted(path), locator.line(path), f"environment variable {name} is not set"
        )
        for path, name in unset
    ]
    try:
        interface = _validate(InterfaceFile, resolved, locator, source_name, table_at=("mapping",))
    except MappingError as exc:
        raise MappingError([*missing, *exc.problems], source_name=source_name) from None
    problems = missing + compile_problems(interface.mapping, locator.within("mapping"))
    if problems:
        raise MappingError(problems, source_name=source_name)
    return LoadedInterface(interface, locator)


def _resolve(value: Any, env: Mapping[str, str], path: Path, unset: list[tuple[Path, str]]) -> Any:
    """``value`` with ``${VAR}`` in its strings replaced; unset names are added to ``unset``."""
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            if match[1] not in env:
                unset.append((path, match[1]))
                return match[0]
            return env[match[1]]

        return _ENV_REFERENCE.sub(substitute, value)
    if isinstance(value, dict):
        return {k: _resolve(v, env, (*path, k), unset) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, env, (*path, i), unset) for i, v in enumerate(value)]
    return value


def _read_yaml(text: str, source_name: str) -> tuple[dict[str, Any], Locator]:
    """The file's data and node tree, after the size, anchor and nesting checks."""
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        message = f"the file has {size} bytes, more than the {MAX_FILE_BYTES // 1024} KiB accepted"
        raise _whole_file(message, None, source_name)
    try:
        _scan_events(text, source_name)
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = "; ".join(filter(None, (exc.context, exc.problem))) or str(exc)
        raise _whole_file(f"not valid YAML: {reason}", line, source_name) from None
    except yaml.YAMLError as exc:
        raise _whole_file(f"not valid YAML: {exc}", None, source_name) from None
    if root is None or not isinstance(data, dict):
        raise _whole_file("the file must be a YAML mapping (key: value)", None, source_name)
    duplicates = _duplicate_keys(root)
    if duplicates:
        raise MappingError(duplicates, source_name=source_name)
    return data, Locator(root)


def _scan_events(text: str, source_name: str) -> None:
    """Refuse anchors, aliases and deep nesting before any node is built."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        line = event.start_mark.line + 1 if event.start_mark else None
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            message = "YAML anchors and aliases (& and *) are not allowed: write the values out"
            raise _whole_file(message, line, source_name)
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _whole_file(f"nested more than {MAX_DEPTH} levels deep", line, source_name)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _duplicate_keys(root: yaml.Node) -> list[MappingProblem]:
    """A problem for each key that appears twice in one mapping (YAML keeps the last)."""
    problems: list[MappingProblem] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value in seen:
                    line = key.start_mark.line + 1
                    problems.append(MappingProblem(None, key.value, line, "key given twice"))
                elif isinstance(key, yaml.ScalarNode):
                    seen.add(key.value)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return problems


def _whole_file(message: str, line: int | None, source_name: str) -> MappingError:
    return MappingError([MappingProblem(None, None, line, message)], source_name=source_name)


def _validate(
    model: type[M], data: Any, locator: Locator, source_name: str, *, table_at: Path = ()
) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = validation_problems(exc, data, locator, table_at=table_at)
        raise MappingError(problems, source_name=source_name) from None
