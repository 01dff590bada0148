"""What every signed-in page gets: who is looking and the CSRF token, as one dependency."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from app.api.deps import StateDep, UiActor, UiUser
from app.auth.actor import Actor
from app.models import User
from app.ui.csrf import csrf_token_for


@dataclass(frozen=True, slots=True)
class Page:
    """What every signed-in page needs: who is looking and the CSRF token."""

    actor: Actor
    user: User
    csrf_token: str

    def context(self, active: str, **extra: Any) -> dict[str, Any]:
        """The template context shared by all pages, plus ``extra``."""
        return {
            "actor": self.actor,
            "user": self.user,
            "csrf_token": self.csrf_token,
            "active": active,
            **extra,
        }


async def get_page(request: Request, actor: UiActor, user: UiUser, state: StateDep) -> Page:
    """The context of a signed-in page; anonymous requests never get here."""
    return Page(actor=actor, user=user, csrf_token=csrf_token_for(request, state))


PageDep = Annotated[Page, Depends(get_page)]
