"""Every table of hubsync on one metadata; importing this package registers them all."""

from app.models.account import ApiToken, LoginThrottle, User, UserSession
from app.models.audit import AuditEntry
from app.models.base import Base, TenantOwned
from app.models.connection import Connection
from app.models.interface import Interface, MappingVersion
from app.models.lease import Lease
from app.models.notification import NotificationDelivery, NotificationTarget
from app.models.run import RunItem, SyncRun
from app.models.suppression import PrivacySuppression
from app.models.sync_state import Cursor, RecordLink
from app.models.tenant import Tenant
from app.models.webhook import DeletionRequest, WebhookEvent

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Base",
    "Connection",
    "Cursor",
    "DeletionRequest",
    "Interface",
    "Lease",
    "LoginThrottle",
    "MappingVersion",
    "NotificationDelivery",
    "NotificationTarget",
    "PrivacySuppression",
    "RecordLink",
    "RunItem",
    "SyncRun",
    "Tenant",
    "TenantOwned",
    "User",
    "UserSession",
    "WebhookEvent",
]
