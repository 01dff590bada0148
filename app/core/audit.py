"""The audit log writer: one append-only row per security-relevant event."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditEntry


async def record_audit(
    session: AsyncSession,
    *,
    action: str,
    actor_label: str,
    actor_id: uuid.UUID | None = None,
    tenant_id: uuid.UUID | None = None,
    target_type: str | None = None,
    target_id: uuid.UUID | str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append an audit entry; ``details`` must hold no secret and no personal data."""
    session.add(
        AuditEntry(
            action=action,
            actor_label=actor_label,
            actor_id=actor_id,
            tenant_id=tenant_id,
            target_type=target_type,
            target_id=str(target_id) if target_id is not None else None,
            details=details or {},
        )
    )
