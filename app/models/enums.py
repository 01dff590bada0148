"""The closed vocabularies of the domain, shared by models, services and the UI."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    """What a user may do: operators see every tenant, admins and viewers their own."""

    operator = "operator"
    admin = "admin"
    viewer = "viewer"


class ConnectionKind(enum.StrEnum):
    """Which side of an interface a connection serves."""

    hubspot = "hubspot"
    source = "source"


class InterfaceState(enum.StrEnum):
    """An interface's life cycle: drafted, tried in the sandbox, live, or halted."""

    draft = "draft"
    testing = "testing"
    active = "active"
    paused = "paused"


class Health(enum.StrEnum):
    """An interface's health as the dashboard shows it."""

    ok = "ok"
    warning = "warning"
    error = "error"
    paused = "paused"
    never_run = "never_run"


class RunTrigger(enum.StrEnum):
    """What started a sync run."""

    schedule = "schedule"
    manual = "manual"
    webhook = "webhook"
    retry = "retry"


class RunStatus(enum.StrEnum):
    """Where a sync run stands; ``aborted`` means its process died (lease expired)."""

    running = "running"
    succeeded = "succeeded"
    warning = "warning"
    failed = "failed"
    aborted = "aborted"


class SyncDirection(enum.StrEnum):
    """Which way a record travels."""

    to_hubspot = "to_hubspot"
    from_hubspot = "from_hubspot"


class ItemAction(enum.StrEnum):
    """What a run did, or meant to do, with one record."""

    create = "create"
    update = "update"
    unchanged = "unchanged"
    delete = "delete"
    skip = "skip"


class ItemStatus(enum.StrEnum):
    """Whether a record's task succeeded; failed ones feed the error log."""

    succeeded = "succeeded"
    failed = "failed"
    resolved = "resolved"


class ErrorCategory(enum.StrEnum):
    """Who can fix an error: the data, the configuration, time, or us."""

    data = "data"
    config = "config"
    transient = "transient"
    system = "system"


class WebhookState(enum.StrEnum):
    """Processing state of a received HubSpot webhook event."""

    received = "received"
    processing = "processing"
    processed = "processed"
    failed = "failed"
    ignored = "ignored"


class DeletionState(enum.StrEnum):
    """Progress of a privacy deletion across systems."""

    pending = "pending"
    completed = "completed"
    failed = "failed"


class NotificationKind(enum.StrEnum):
    """How a notification reaches its recipient."""

    email = "email"
    webhook = "webhook"  # a JSON POST that Slack and Microsoft Teams incoming webhooks accept


class HealthChange(enum.StrEnum):
    """A change of an interface's health worth telling someone about."""

    failed = "failed"
    warning = "warning"
    recovered = "recovered"


class DeliveryStatus(enum.StrEnum):
    """Where one notification message stands."""

    pending = "pending"
    sent = "sent"
    failed = "failed"
