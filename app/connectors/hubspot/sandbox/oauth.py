"""The sandbox's OAuth 2.0 server: consent page, token endpoint, token lookup and introspection.

It follows HubSpot's endpoints (``/oauth/authorize``, ``/oauth/v1/token``,
``/oauth/v1/access-tokens/{token}``, ``/oauth/v3/token/introspect`` …) on top of
one ``TokenRegistry``. What the registry does not keep (consent requests
between page and decision, PKCE challenges, the scopes of refresh tokens) is
kept here. The consent page carries only an unguessable, single-use ticket; the
validated request stays on the server, so nothing the client sent is trusted twice.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import re
import secrets
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from app.connectors.hubspot.sandbox.tokens import ALL_SCOPES, TokenInfo, TokenRegistry

CONSENT_TTL_SECONDS = 600
_AUTHORIZE_PARAMS = (
    "client_id", "redirect_uri", "scope", "optional_scope", "state",
    "code_challenge", "code_challenge_method",
)  # fmt: skip
_HOST = re.compile(r"(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")
_CODE_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
_CODE_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class AuthorizeError(ValueError):
    """An authorization request that cannot be shown a consent page (answered with a 400 page)."""


@dataclass(frozen=True, slots=True)
class ConsentRequest:
    """A validated authorization request, waiting for the user's decision."""

    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    optional_scopes: tuple[str, ...]
    state: str | None
    code_challenge: str | None
    expires_at: float


class OAuthServer:
    """HubSpot's OAuth endpoints for one portal, backed by a ``TokenRegistry``."""

    def __init__(
        self,
        registry: TokenRegistry,
        *,
        portal_name: str = "Sandbox portal",
        app_id: int = 1,
        redirect_uris: Collection[str] | None = None,
        user: str = "sandbox-user@example.com",
        user_id: int = 1,
    ) -> None:
        self.registry = registry
        self.portal_name = portal_name
        self.app_id = app_id
        self.redirect_uris = None if redirect_uris is None else frozenset(redirect_uris)
        self.user = user
        self.user_id = user_id
        self._consents: dict[str, ConsentRequest] = {}
        self._challenges: dict[str, str] = {}  # authorization code -> PKCE S256 challenge
        self._spent_codes: set[str] = set()  # codes refused for a wrong PKCE verifier
        self._refresh_scopes: dict[str, tuple[str, ...]] = {}

    # -- authorization (consent page) -------------------------------------------------

    def validate_authorize(self, query: Mapping[str, list[str]]) -> ConsentRequest:
        """Check an authorize request's query; raise ``AuthorizeError`` saying what is wrong."""
        for name in _AUTHORIZE_PARAMS:
            if len(query.get(name, [])) > 1:
                raise AuthorizeError(f"The parameter {name} is given more than once.")
        value = {name: query.get(name, [""])[0] for name in _AUTHORIZE_PARAMS}
        if not _same(value["client_id"], self.registry.client_id):
            raise AuthorizeError(f"Unknown client_id {value['client_id']!r}.")
        self._check_redirect_uri(value["redirect_uri"])
        scopes = _split_scopes(value["scope"])
        if not scopes:
            raise AuthorizeError("The scope parameter is missing.")
        unknown = [scope for scope in scopes if scope not in ALL_SCOPES]
        if unknown:
            raise AuthorizeError(f"Unknown scopes: {' '.join(unknown)}.")
        optional = tuple(
            scope
            for scope in _split_scopes(value["optional_scope"])
            if scope in ALL_SCOPES and scope not in scopes
        )
        return ConsentRequest(
            client_id=value["client_id"],
            redirect_uri=value["redirect_uri"],
            scopes=scopes,
            optional_scopes=optional,
            state=value["state"] or None,
            code_challenge=_checked_challenge(
                value["code_challenge"], value["code_challenge_method"]
            ),
            expires_at=self.registry.now() + CONSENT_TTL_SECONDS,
        )

    def open_consent(self, consent: ConsentRequest) -> str:
        """Park a validated request until the user decides; the ticket names it in the form."""
        now = self.registry.now()
        for ticket in [t for t, c in self._consents.items() if c.expires_at <= now]:
            del self._consents[ticket]
        ticket = secrets.token_urlsafe(32)
        self._consents[ticket] = consent
        return ticket

    def decide(self, ticket: str, approve: bool) -> str | None:
        """The redirect for the user's decision on a ticket, or None if it is unknown or stale."""
        consent = self._consents.pop(ticket, None)
        if consent is None or consent.expires_at <= self.registry.now():
            return None
        if not approve:
            return _with_query(consent.redirect_uri, {"error": "access_denied"}, consent.state)
        code = self.registry.issue_code(
            consent.client_id, consent.redirect_uri, consent.scopes + consent.optional_scopes
        )
        if consent.code_challenge is not None:
            self._challenges[code] = consent.code_challenge
        return _with_query(consent.redirect_uri, {"code": code}, consent.state)

    def _check_redirect_uri(self, uri: str) -> None:
        if not uri:
            raise AuthorizeError("The redirect_uri parameter is missing.")
        if self.redirect_uris is not None and uri not in self.redirect_uris:
            raise AuthorizeError(f"The redirect_uri {uri!r} is not registered for this app.")
        if not uri.isascii() or any(ch.isspace() or not ch.isprintable() for ch in uri):
            raise AuthorizeError("The redirect_uri must be an ASCII URL without spaces.")
        parts = urlsplit(uri)
        if parts.scheme not in ("http", "https") or not _HOST.fullmatch(parts.netloc):
            raise AuthorizeError(f"The redirect_uri {uri!r} is not an absolute http(s) URL.")
        if parts.fragment or "#" in uri:
            raise AuthorizeError("The redirect_uri must not have a fragment.")

    # -- token endpoint ---------------------------------------------------------------

    def token(self, form: FormData) -> JSONResponse:
        """Answer ``POST /oauth/v1/token`` for the authorization-code and refresh grants."""
        grant_type = _field(form, "grant_type")
        if grant_type not in ("authorization_code", "refresh_token"):
            return _oauth_error(
                "BAD_GRANT_TYPE", "grant_type must be authorization_code or refresh_token"
            )
        refused = self._client_error(form)
        if refused is not None:
            return refused
        if grant_type == "authorization_code":
            return self._exchange_code(form)
        tokens = self.registry.refresh(
            _field(form, "refresh_token"), _field(form, "client_id"), _field(form, "client_secret")
        )
        if tokens is None:
            return _oauth_error("BAD_REFRESH_TOKEN", "missing or invalid refresh token")
        return _token_response(tokens)

    def _exchange_code(self, form: FormData) -> JSONResponse:
        code = _field(form, "code")
        if not code or code in self._spent_codes:
            return _oauth_error("BAD_AUTH_CODE", "missing or invalid auth code")
        challenge = self._challenges.pop(code, None)
        if challenge is not None and not _pkce_matches(challenge, _field(form, "code_verifier")):
            self._spent_codes.add(code)
            return _oauth_error("BAD_AUTH_CODE", "code_verifier does not match the code_challenge")
        tokens = self.registry.exchange_code(
            code,
            _field(form, "client_id"),
            _field(form, "client_secret"),
            _field(form, "redirect_uri"),
        )
        if tokens is None:
            return _oauth_error(
                "BAD_AUTH_CODE", "missing, expired or used auth code, or redirect_uri mismatch"
            )
        info = self.registry.authenticate(str(tokens["access_token"]))
        if info is not None:
            self._refresh_scopes[str(tokens["refresh_token"])] = info.scopes
        return _token_response(tokens)

    def _client_error(self, form: FormData) -> JSONResponse | None:
        if not _same(_field(form, "client_id"), self.registry.client_id):
            return _oauth_error("BAD_CLIENT_ID", "missing or unknown client id")
        if not _same(_field(form, "client_secret"), self.registry.client_secret):
            return _oauth_error("BAD_CLIENT_ID", "the client secret does not match the client id")
        return None

    # -- token information ------------------------------------------------------------

    def access_token_info(self, token: str) -> dict[str, object] | None:
        """HubSpot's ``AccessTokenInfoResponse`` for a live OAuth access token, else None."""
        info = self.registry.authenticate(token)
        if info is None or info.kind != "access_token":
            return None
        return {
            "token": token,
            "user": self.user,
            "user_id": self.user_id,
            "hub_id": info.hub_id,
            "hub_domain": self._hub_domain(),
            "app_id": self.app_id,
            "scopes": list(info.scopes),
            "expires_in": self._expires_in(info),
            "token_type": "access",
            "is_private_distribution": False,
        }

    def refresh_token_info(self, token: str) -> dict[str, object] | None:
        """HubSpot's ``RefreshTokenInfoResponse`` for a refresh token issued here, else None."""
        scopes = self._refresh_scopes.get(token)
        if scopes is None:
            return None
        return {
            "token": token,
            "user": self.user,
            "user_id": self.user_id,
            "hub_id": self.registry.hub_id,
            "hub_domain": self._hub_domain(),
            "client_id": self.registry.client_id,
            "scopes": list(scopes),
            "token_type": "refresh",
        }

    def revoke_refresh_token(self, token: str) -> bool:
        """Revoke a refresh token (its access tokens live on until they expire)."""
        self._refresh_scopes.pop(token, None)
        return self.registry.revoke_refresh_token(token)

    def introspect(self, form: FormData) -> JSONResponse:
        """Answer ``POST /oauth/v3/token/introspect``: RFC 7662 plus HubSpot's fields."""
        refused = self._client_error(form)
        if refused is not None:
            return refused
        token = _field(form, "token")
        kinds = ["access_token", "refresh_token"]
        if _field(form, "token_type_hint") == "refresh_token":
            kinds.reverse()
        for kind in kinds:
            info = (
                self.access_token_info(token)
                if kind == "access_token"
                else self.refresh_token_info(token)
            )
            if info is not None:
                body = {"active": True, "token_use": kind, "client_id": self.registry.client_id}
                return JSONResponse({**body, **info}, headers=_NO_STORE)
        return JSONResponse({"active": False}, headers=_NO_STORE)

    def _hub_domain(self) -> str:
        return f"sandbox-{self.registry.hub_id}.hubspot.test"

    def _expires_in(self, info: TokenInfo) -> int:
        if info.expires_at is None:
            return self.registry.access_token_ttl
        return max(0, int(info.expires_at - self.registry.now()))


def oauth_router(
    registry: TokenRegistry,
    *,
    portal_name: str = "Sandbox portal",
    app_id: int = 1,
    redirect_uris: Collection[str] | None = None,
) -> APIRouter:
    """HubSpot's OAuth routes for the sandbox (``redirect_uris=None`` accepts any http(s) URL)."""
    server = OAuthServer(
        registry, portal_name=portal_name, app_id=app_id, redirect_uris=redirect_uris
    )
    router = APIRouter(tags=["sandbox-oauth"])

    async def show_consent(request: Request) -> HTMLResponse:
        portal_id = request.path_params.get("portal_id", str(registry.hub_id))
        if portal_id != str(registry.hub_id):
            return _error_page(f"This sandbox is portal {registry.hub_id}, not {portal_id}.")
        query = {key: request.query_params.getlist(key) for key in request.query_params}
        try:
            consent = server.validate_authorize(query)
        except AuthorizeError as exc:
            return _error_page(str(exc))
        ticket = server.open_consent(consent)
        page = _consent_page(server, consent, ticket, action=request.url.path)
        return _html(page, 200, form_origin=_origin(consent.redirect_uri))

    async def take_decision(request: Request) -> Response:
        form = await request.form()
        target = server.decide(_field(form, "ticket"), _field(form, "decision") == "approve")
        if target is None:
            return _error_page(
                "This consent request is unknown or expired; start the install again."
            )
        return RedirectResponse(target, status_code=302, headers=_NO_STORE)

    for path in ("/oauth/authorize", "/oauth/{portal_id}/authorize"):
        router.add_api_route(path, show_consent, methods=["GET"], include_in_schema=False)
        router.add_api_route(path, take_decision, methods=["POST"], include_in_schema=False)

    async def token(request: Request) -> JSONResponse:
        return server.token(await request.form())

    for path in ("/oauth/v1/token", "/oauth/2026-03/token"):
        router.add_api_route(path, token, methods=["POST"])

    @router.get("/oauth/v1/access-tokens/{token}")
    async def access_token_info(token: str) -> JSONResponse:
        info = server.access_token_info(token)
        if info is None:
            return _not_found("access token not found or expired")
        return JSONResponse(info, headers=_NO_STORE)

    @router.get("/oauth/v1/refresh-tokens/{token}")
    async def refresh_token_info(token: str) -> JSONResponse:
        info = server.refresh_token_info(token)
        if info is None:
            return _not_found("refresh token not found")
        return JSONResponse(info, headers=_NO_STORE)

    @router.delete("/oauth/v1/refresh-tokens/{token}", response_model=None)
    async def revoke_refresh_token(token: str) -> Response:
        if not server.revoke_refresh_token(token):
            return _not_found("refresh token not found")
        return Response(status_code=204)

    async def introspect(request: Request) -> JSONResponse:
        return server.introspect(await request.form())

    for path in ("/oauth/v3/token/introspect", "/oauth/2026-03/token/introspect"):
        router.add_api_route(path, introspect, methods=["POST"])
    return router


# -- helpers ------------------------------------------------------------------------------


def _same(given: str, expected: str) -> bool:
    """Constant-time equality that, unlike ``compare_digest`` on str, accepts non-ASCII input."""
    return hmac.compare_digest(given.encode(), expected.encode())


def _split_scopes(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value.split()))


def _checked_challenge(challenge: str, method: str) -> str | None:
    if not challenge and not method:
        return None
    if method != "S256":
        raise AuthorizeError("Only code_challenge_method=S256 is supported.")
    if not _CODE_CHALLENGE.fullmatch(challenge):
        raise AuthorizeError("code_challenge must be a base64url SHA-256 digest (43 characters).")
    return challenge


def _pkce_matches(challenge: str, verifier: str) -> bool:
    if not _CODE_VERIFIER.fullmatch(verifier):
        return False
    digest = hashlib.sha256(verifier.encode()).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return _same(expected, challenge)


def _with_query(uri: str, params: dict[str, str], state: str | None) -> str:
    if state is not None:
        params = {**params, "state": state}
    parts = urlsplit(uri)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit(parts._replace(query=query))


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _token_response(tokens: dict[str, object]) -> JSONResponse:
    return JSONResponse({**tokens, "token_use": "access_token"}, headers=_NO_STORE)


def _oauth_error(status: str, message: str) -> JSONResponse:
    return _error_json(400, status, message, "VALIDATION_ERROR")


def _not_found(message: str) -> JSONResponse:
    return _error_json(404, "NOT_FOUND", message, "OBJECT_NOT_FOUND")


def _error_json(status_code: int, status: str, message: str, category: str) -> JSONResponse:
    body = {
        "status": status,
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
    }
    return JSONResponse(body, status_code=status_code, headers=_NO_STORE)


def _html(body: str, status_code: int, *, form_origin: str | None = None) -> HTMLResponse:
    form_action = "'self'" if form_origin is None else f"'self' {form_origin}"
    headers = {
        "Content-Security-Policy": (
            "default-src 'none'; style-src 'self'; base-uri 'none'; "
            f"frame-ancestors 'none'; form-action {form_action}"
        ),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        **_NO_STORE,
    }
    return HTMLResponse(body, status_code=status_code, headers=headers)


def _document(title: str, content: str) -> str:
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n<main>\n{content}</main>\n"
        "</body>\n</html>\n"
    )


def _error_page(message: str) -> HTMLResponse:
    content = f"<h1>Authorization failed</h1>\n<p>{html.escape(message)}</p>\n"
    return _html(_document("Authorization failed", content), 400)


def _scope_list(scopes: tuple[str, ...]) -> str:
    items = "".join(f"<li><code>{html.escape(scope)}</code></li>\n" for scope in scopes)
    return f"<ul>\n{items}</ul>\n"


def _consent_page(server: OAuthServer, consent: ConsentRequest, ticket: str, action: str) -> str:
    e = html.escape
    portal = f"{server.portal_name} ({server.registry.hub_id})"
    optional = (
        f"<h2>Optional scopes</h2>\n{_scope_list(consent.optional_scopes)}"
        if consent.optional_scopes
        else ""
    )
    content = (
        f"<h1>Connect an app to {e(portal)}</h1>\n"
        f"<p>The app <strong>{e(consent.client_id)}</strong> asks for access to this portal. "
        f"You will be sent back to <code>{e(consent.redirect_uri)}</code>.</p>\n"
        f"<h2>Required scopes</h2>\n{_scope_list(consent.scopes)}{optional}"
        f'<form method="post" action="{e(action)}">\n'
        f'<input type="hidden" name="ticket" value="{e(ticket)}">\n'
        '<button type="submit" name="decision" value="approve">Approve</button>\n'
        '<button type="submit" name="decision" value="deny">Deny</button>\n'
        "</form>\n"
    )
    return _document(f"Connect an app to {portal}", content)
