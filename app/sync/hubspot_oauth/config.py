"""hubsync's HubSpot app as OAuth needs it: client credentials, HubSpot's URLs, the callback.

The app comes from the settings (``HUBSYNC_HUBSPOT_CLIENT_ID``/``_SECRET``,
``HUBSYNC_HUBSPOT_API_URL``, ``HUBSYNC_HUBSPOT_AUTHORIZE_URL``); HubSpot sends the
user back to ``HUBSYNC_PUBLIC_URL`` + ``CALLBACK_PATH``, which must be registered
as the app's redirect URL. A connection keeps a copy of the app it was connected
through (encrypted with its tokens), so a run can refresh them on its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import httpx

from app.connectors.clock import SYSTEM_CLOCK, Clock
from app.connectors.hubspot.auth import OAuthApp
from app.core.settings import Settings

CALLBACK_PATH = "/ui/hubspot/oauth/callback"


@dataclass(frozen=True, slots=True)
class OAuthConfig:
    """The HubSpot app hubsync connects portals through."""

    client_id: str
    client_secret: str = field(repr=False)
    api_url: str  # token, token information and revocation endpoints
    authorize_url: str  # HubSpot's consent page
    redirect_uri: str  # hubsync's callback, as registered with the app

    @classmethod
    def from_settings(cls, settings: Settings) -> OAuthConfig | None:
        """The configured app, or None while client id or secret are not set."""
        secret = settings.hubspot_client_secret
        if not settings.hubspot_client_id or secret is None or not secret.get_secret_value():
            return None
        return cls(
            client_id=settings.hubspot_client_id,
            client_secret=secret.get_secret_value(),
            api_url=settings.hubspot_api_url.rstrip("/"),
            authorize_url=settings.hubspot_authorize_url,
            redirect_uri=settings.public_url + CALLBACK_PATH,
        )

    @classmethod
    def from_json(cls, data: Mapping[str, str]) -> OAuthConfig:
        """The app as stored with a connection's tokens."""
        return cls(**{name: str(data[name]) for name in _FIELDS})

    def to_json(self) -> dict[str, str]:
        """The app as stored (encrypted) with a connection's tokens."""
        return asdict(self)

    def client(
        self, http: httpx.AsyncClient, *, scopes: Sequence[str] = (), clock: Clock = SYSTEM_CLOCK
    ) -> OAuthApp:
        """The OAuth client of this app, calling HubSpot through ``http``."""
        return OAuthApp(
            client_id=self.client_id,
            client_secret=self.client_secret,
            redirect_uri=self.redirect_uri,
            http=http,
            scopes=scopes,
            base_url=self.api_url,
            authorize_url=self.authorize_url,
            clock=clock,
        )


_FIELDS = ("client_id", "client_secret", "api_url", "authorize_url", "redirect_uri")
