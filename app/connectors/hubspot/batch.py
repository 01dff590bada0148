"""Per-input results of HubSpot batch calls.

Every batch call returns a ``BatchResult`` that pairs each input with either its
result or its failure. HubSpot reports 207 failures in ``errors[]`` with the
inputs named in ``context`` (``objectWriteTraceId``, ``ids``); ``Matcher`` maps
those back to inputs. When HubSpot rejects a whole batch with a data error
(400/404/409, nothing written), ``split_on_rejection`` fails the inputs the error
names and resends the rest, or bisects when it names none, so one bad record
never sinks its batch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from app.connectors.hubspot.errors import Action, FailureType, HubSpotError, error_fields

I = TypeVar("I")  # noqa: E741 - the input type of a batch
J = TypeVar("J")
R = TypeVar("R")
BATCH_SIZE = 100
_CONTEXT_KEYS = {"objectWriteTraceId": "trace", "ids": "id", "id": "id"}


@dataclass(frozen=True, slots=True)
class BatchSuccess(Generic[I, R]):
    """One input and what HubSpot returned for it."""

    input: I
    result: R


@dataclass(frozen=True, slots=True)
class BatchFailure(Generic[I]):
    """One input HubSpot refused, with HubSpot's reasons."""

    input: I
    status: int | None
    category: str | None
    message: str
    context: Mapping[str, list[str]] = field(default_factory=dict)
    correlation_id: str | None = None
    action: Action = Action.SKIPPABLE

    def moved_to(self, item: J) -> BatchFailure[J]:
        """The same failure reported against another input object."""
        return BatchFailure(
            item, self.status, self.category, self.message, self.context,
            self.correlation_id, self.action,
        )  # fmt: skip

    @classmethod
    def from_error(cls, item: I, error: HubSpotError) -> BatchFailure[I]:
        """The failure of ``item`` from a raised error."""
        return cls(
            item, error.status, error.category, error.message, error.context,
            error.correlation_id, error.action,
        )  # fmt: skip


@dataclass(slots=True)
class BatchResult(Generic[I, R]):
    """Successes and failures of a batch call, one entry per input."""

    succeeded: list[BatchSuccess[I, R]] = field(default_factory=list)
    failed: list[BatchFailure[I]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every input succeeded."""
        return not self.failed

    def map_inputs(self, convert: Callable[[I], J]) -> BatchResult[J, R]:
        """The same results reported against converted inputs."""
        return BatchResult(
            succeeded=[BatchSuccess(convert(s.input), s.result) for s in self.succeeded],
            failed=[f.moved_to(convert(f.input)) for f in self.failed],
        )

    def extend(self, other: BatchResult[I, R]) -> None:
        """Add another chunk's results."""
        self.succeeded.extend(other.succeeded)
        self.failed.extend(other.failed)


def chunks(items: Sequence[I], size: int = BATCH_SIZE) -> Iterable[Sequence[I]]:
    """``items`` in slices of at most ``size``."""
    return (items[i : i + size] for i in range(0, len(items), size))


def error_keys(error: Mapping[str, Any]) -> set[str]:
    """Matcher keys of the inputs a batch error names in its ``context``."""
    context = error.get("context") or {}
    keys: set[str] = set()
    for name, prefix in _CONTEXT_KEYS.items():
        values = context.get(name) or []
        keys.update(f"{prefix}:{v}" for v in (values if isinstance(values, list) else [values]))
    return keys


class Matcher(Generic[I]):
    """Finds the input a result or error belongs to by shared keys (trace id, id, …)."""

    def __init__(self, inputs: Sequence[I], keys_of: Callable[[I], Iterable[str]]) -> None:
        self.inputs = inputs
        self._index: dict[str, int] = {}
        for position, item in enumerate(inputs):
            for key in keys_of(item):
                self._index.setdefault(key, position)

    def positions(self, keys: Iterable[str]) -> list[int]:
        """Positions of the inputs matching any of ``keys``."""
        return sorted({self._index[k] for k in keys if k in self._index})

    def first_open(self, keys: Iterable[str], done: Collection[int]) -> list[int]:
        """The first input matching any of ``keys`` that has no result yet ([] or [position])."""
        index = self._index
        hits = [p for k in keys if (p := index.get(k)) is not None and p not in done]
        return [min(hits)] if hits else []


def collect(
    matcher: Matcher[I],
    body: Mapping[str, Any] | None,
    parse: Callable[[Any], R],
    result_keys: Callable[[R], Iterable[str]],
) -> BatchResult[I, R]:
    """Pair a 200/201/207 batch body with the inputs that produced it."""
    body = body or {}
    out: BatchResult[I, R] = BatchResult()
    done: set[int] = set()
    strays: list[R] = []
    for raw in body.get("results") or []:
        result = parse(raw)
        found = matcher.first_open(result_keys(result), done)
        if not found:
            strays.append(result)
        for pos in found:
            out.succeeded.append(BatchSuccess(matcher.inputs[pos], result))
            done.add(pos)
    unnamed: list[Mapping[str, Any]] = []
    for error in body.get("errors") or []:
        named = [p for p in matcher.positions(error_keys(error)) if p not in done]
        for pos in named:
            out.failed.append(_failure(matcher.inputs[pos], error))
        done.update(named)
        if not named:
            unnamed.append(error)
    _pair_in_order(matcher, done, strays, out)
    _report_unmatched(matcher, done, unnamed, out)
    return out


def _pair_in_order(
    matcher: Matcher[I], done: set[int], strays: list[R], out: BatchResult[I, R]
) -> None:
    """Results that echo no key pair with the remaining inputs in order, if counts agree."""
    left = [p for p in range(len(matcher.inputs)) if p not in done]
    if strays and len(strays) == len(left):
        out.succeeded.extend(
            BatchSuccess(matcher.inputs[p], r) for p, r in zip(left, strays, strict=True)
        )
        done.update(left)


def _failure(item: I, error: Mapping[str, Any]) -> BatchFailure[I]:
    fields = error_fields(error, None)
    return BatchFailure(
        item, fields["status"], fields["category"], str(error.get("message", "")),
        fields["context"], fields["correlation_id"],
    )  # fmt: skip


def _report_unmatched(
    matcher: Matcher[I], done: set[int], unnamed: list[Mapping[str, Any]], out: BatchResult[I, R]
) -> None:
    """Inputs HubSpot neither returned nor named fail, quoting any unattributed errors."""
    reason = "; ".join(str(e.get("message", "")) for e in unnamed) or "no result returned"
    category = str(unnamed[0].get("category")) if unnamed else "MISSING_RESULT"
    for pos, item in enumerate(matcher.inputs):
        if pos not in done:
            out.failed.append(BatchFailure(item, None, category, reason))


Send = Callable[[Sequence[I]], Awaitable[BatchResult[I, R]]]


async def split_on_rejection(
    inputs: Sequence[I], send: Send[I, R], keys_of: Callable[[I], Iterable[str]]
) -> BatchResult[I, R]:
    """``send(inputs)``; on a whole-batch data error, fail the culprits and resend the rest."""
    try:
        return await send(inputs)
    except HubSpotError as error:
        if error.failure_type is not FailureType.DATA:
            raise  # not a verdict on the records (and OutcomeUnknown must not be resent)
        return await _isolate(inputs, error, send, keys_of)


async def _isolate(
    inputs: Sequence[I],
    error: HubSpotError,
    send: Send[I, R],
    keys_of: Callable[[I], Iterable[str]],
) -> BatchResult[I, R]:
    out: BatchResult[I, R] = BatchResult()
    if len(inputs) == 1:
        out.failed.append(BatchFailure.from_error(inputs[0], error))
        return out
    named = set(Matcher(inputs, keys_of).positions(error_keys({"context": error.context})))
    out.failed.extend(BatchFailure.from_error(inputs[p], error) for p in sorted(named))
    rest = [item for p, item in enumerate(inputs) if p not in named]
    groups = [rest] if named else [rest[: len(rest) // 2], rest[len(rest) // 2 :]]
    for group in groups:
        if group:
            out.extend(await split_on_rejection(group, send, keys_of))
    return out
