"""Connecting HubSpot portals through OAuth 2.0: scopes, state, tokens at rest and at run time.

    config.py   OAuthConfig: hubsync's HubSpot app and the callback path
    scopes.py   required_scopes: the scopes mapping tables need (pure)
    needs.py    which tables use a connection, so which scopes it needs
    stored.py   what a connection stores where; the pending authorization (state)
    service.py  start_authorization, complete_authorization, disconnect
    status.py   access_status: what the connection's HubSpot page shows
    grant.py    oauth_grant: a run's HubSpot client that refreshes and stores tokens

See docs/hubspot-oauth.md.
"""

from app.sync.hubspot_oauth.config import CALLBACK_PATH, OAuthConfig
from app.sync.hubspot_oauth.grant import OAuthGrant, oauth_grant
from app.sync.hubspot_oauth.scopes import required_scopes
from app.sync.hubspot_oauth.service import (
    CallbackProblem,
    OAuthCallbackError,
    OAuthNotConfigured,
    complete_authorization,
    disconnect,
    start_authorization,
)
from app.sync.hubspot_oauth.status import AccessState, HubSpotAccessStatus, access_status

__all__ = [
    "CALLBACK_PATH",
    "AccessState",
    "CallbackProblem",
    "HubSpotAccessStatus",
    "OAuthCallbackError",
    "OAuthConfig",
    "OAuthGrant",
    "OAuthNotConfigured",
    "access_status",
    "complete_authorization",
    "disconnect",
    "oauth_grant",
    "required_scopes",
    "start_authorization",
]
