"""Each auth style signs requests as configured; refused credentials are an auth error."""

from __future__ import annotations

import pytest

from app.connectors.errors import ConnectorAuthError
from tests.connectors.hubspot.fakes import FakeClock
from tests.connectors.rest.api import (
    API_KEY,
    API_KEY_HEADER,
    PASSWORD,
    TOKEN,
    USERNAME,
    CustomersApi,
    basic,
)
from tests.connectors.rest.conftest import Connect
from tests.connectors.rest.support import keys_of, read_all, seed

STATIC_HEADERS = [
    pytest.param({"auth": "bearer"}, "authorization", f"Bearer {TOKEN}", id="bearer"),
    pytest.param({"auth": "basic"}, "authorization", basic(USERNAME, PASSWORD), id="basic"),
    pytest.param({"auth": "api_key"}, API_KEY_HEADER.lower(), API_KEY, id="api_key"),
]
OAUTH = {"auth": "oauth2_client_credentials", "token_ttl_s": 3600}


class TestStaticCredentials:
    @pytest.mark.parametrize(("api", "header", "value"), STATIC_HEADERS, indirect=["api"])
    async def test_every_request_carries_the_header(
        self, api: CustomersApi, connect: Connect, header: str, value: str
    ) -> None:
        seed(api, 5)
        assert len(keys_of(await read_all(connect()))) == 5
        assert [seen.headers.get(header) for seen in api.seen] == [value, value]

    async def test_no_auth_sends_no_credentials(self, api: CustomersApi, connect: Connect) -> None:
        seed(api, 1)
        await read_all(connect())
        assert "authorization" not in api.seen[0].headers

    @pytest.mark.parametrize("api", [{"auth": "bearer"}], indirect=True)
    async def test_a_wrong_token_is_an_auth_error(
        self, api: CustomersApi, connect: Connect
    ) -> None:
        connector = connect(auth={"type": "bearer", "token": "wrong"})
        with pytest.raises(ConnectorAuthError, match="HTTP 401"):
            await read_all(connector)
        result = await connector.check()
        assert not result.ok
        assert "credentials" in result.message

    async def test_403_is_an_auth_error(self, api: CustomersApi, connect: Connect) -> None:
        api.fail(403)
        with pytest.raises(ConnectorAuthError, match="HTTP 403"):
            await read_all(connect())


@pytest.mark.parametrize("api", [OAUTH], indirect=True)
class TestClientCredentials:
    async def test_the_token_is_fetched_once_and_reused(
        self, api: CustomersApi, connect: Connect
    ) -> None:
        seed(api, 7)
        connector = connect()
        await read_all(connector)
        await read_all(connector)
        assert api.token_requests == 1
        tokens = {seen.headers["authorization"] for seen in api.seen}
        assert len(tokens) == 1
        assert tokens.pop().removeprefix("Bearer ") in api.tokens

    async def test_an_expired_token_is_renewed(
        self, api: CustomersApi, connect: Connect, clock: FakeClock
    ) -> None:
        connector = connect(clock=clock)
        await read_all(connector)
        clock.now += 3600
        await read_all(connector)
        assert api.token_requests == 2
        assert len({seen.headers["authorization"] for seen in api.seen}) == 2

    async def test_a_revoked_token_is_renewed_once(
        self, api: CustomersApi, connect: Connect
    ) -> None:
        connector = connect()
        await read_all(connector)
        api.tokens.clear()
        await read_all(connector)
        assert api.token_requests == 2
        assert [seen.method for seen in api.seen] == ["GET", "GET", "GET"]

    async def test_a_wrong_client_secret_is_an_auth_error(
        self, api: CustomersApi, connect: Connect, base_url: str
    ) -> None:
        auth = {
            "type": "oauth2_client_credentials",
            "token_url": f"{base_url}/oauth/token",
            "client_id": "client-1",
            "client_secret": "not-the-secret",
        }
        with pytest.raises(ConnectorAuthError, match="POST /oauth/token: HTTP 401"):
            await read_all(connect(auth=auth))
        assert api.seen == []
