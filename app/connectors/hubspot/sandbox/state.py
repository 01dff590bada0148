"""The running sandbox: configuration, data, limits, faults and counters, shared by all routes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from app.connectors.hubspot.sandbox import custom_objects
from app.connectors.hubspot.sandbox.associations import AssociationTypes
from app.connectors.hubspot.sandbox.config import SandboxConfig
from app.connectors.hubspot.sandbox.events import EventSink
from app.connectors.hubspot.sandbox.faults import Faults
from app.connectors.hubspot.sandbox.ratelimit import RateLimiter
from app.connectors.hubspot.sandbox.records import Portal
from app.connectors.hubspot.sandbox.schema import Catalog, PropertyDef
from app.connectors.hubspot.sandbox.store import Store
from app.connectors.hubspot.sandbox.tokens import TokenRegistry


@dataclass(slots=True)
class Stats:
    """Request counters a test or the demo can read (``GET /_sandbox/stats``)."""

    requests: int = 0
    rate_limited: int = 0
    injected_errors: int = 0
    dropped: int = 0
    record_failures: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    def answered(self, status: int) -> None:
        """Count one response with ``status``."""
        key = str(status)
        self.by_status[key] = self.by_status.get(key, 0) + 1
        if status == 429:
            self.rate_limited += 1

    def as_dict(self) -> dict[str, Any]:
        """The counters as JSON."""
        return asdict(self)


class SandboxState:
    """Everything one sandbox portal holds at run time (``app.state.sandbox``)."""

    def __init__(
        self,
        config: SandboxConfig,
        tokens: TokenRegistry,
        sink: EventSink,
        clock: Callable[[], float],
    ) -> None:
        self.config = config
        self.tokens = tokens
        self.clock = clock
        self.store = Store(config.db_path)
        self.portal = Portal(self.store, clock, sink)
        self.limiter = RateLimiter(config.rate_profile, clock)
        self.faults = Faults(config.faults)
        self.stats = Stats()
        self._load_definitions()

    def reset(self) -> None:
        """Wipe records, associations and custom definitions; restart limits and counters."""
        self.store.reset()
        self.portal.catalog = Catalog()
        self.portal.assoc_types = AssociationTypes()
        self.limiter = RateLimiter(self.limiter.profile, self.clock)
        self.faults.reseed()
        self.stats = Stats()

    def save_property(self, type_id: str, prop: PropertyDef) -> None:
        """Persist a custom property so a file-backed portal keeps it."""
        self.store.save_definition("property", type_id, prop.name, asdict(prop))

    def save_group(self, type_id: str, group: dict[str, Any]) -> None:
        """Persist a custom property group."""
        self.store.save_definition("group", type_id, group["name"], group)

    def _load_definitions(self) -> None:
        for definition in self.store.custom_objects():
            custom_objects.install(self.portal, definition)
        catalog = self.portal.catalog
        for type_id, group in self.store.definitions("group"):
            if (ot := catalog.find(type_id)) is not None:
                ot.groups[group["name"]] = group
        for type_id, body in self.store.definitions("property"):
            if (ot := catalog.find(type_id)) is not None:
                ot.add(PropertyDef.from_dict(body))
