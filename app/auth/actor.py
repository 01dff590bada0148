"""Who is acting, and what their role allows: the same check for API, UI and CLI."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass

from app.core.errors import Forbidden
from app.core.tenancy import TenantScope
from app.models.enums import Role


class Permission(enum.StrEnum):
    """Actions that not every role may take."""

    read = "read"
    operate_interfaces = "operate_interfaces"
    approve_mappings = "approve_mappings"
    manage_connections = "manage_connections"
    manage_tenants = "manage_tenants"
    manage_users = "manage_users"
    read_payloads = "read_payloads"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.operator: frozenset(Permission),
    Role.admin: frozenset(
        {
            Permission.read,
            Permission.operate_interfaces,
            Permission.approve_mappings,
            Permission.manage_users,
            Permission.read_payloads,
        }
    ),
    Role.viewer: frozenset({Permission.read}),
}


@dataclass(frozen=True, slots=True)
class Actor:
    """The caller of a service: a signed-in user, a token's owner, or the CLI."""

    role: Role
    tenant_id: uuid.UUID | None
    user_id: uuid.UUID | None = None
    label: str = "system"

    @classmethod
    def system(cls, label: str = "cli") -> Actor:
        """The operator-level actor used by the command line and the scheduler."""
        return cls(role=Role.operator, tenant_id=None, label=label)

    @property
    def scope(self) -> TenantScope:
        """The tenants this actor may see: one, or all for operators."""
        if self.role == Role.operator:
            return TenantScope.all_tenants()
        if self.tenant_id is None:
            raise Forbidden("this account belongs to no tenant")
        return TenantScope.only(self.tenant_id)

    def can(self, permission: Permission) -> bool:
        """Whether this actor's role grants ``permission``."""
        return permission in ROLE_PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        """Raise ``Forbidden`` unless the role grants ``permission``."""
        if not self.can(permission):
            raise Forbidden("your role does not allow this action")
