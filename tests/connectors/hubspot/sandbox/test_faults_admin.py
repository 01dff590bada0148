"""Fault injection (429 bursts, 5xx, drops, failing batch inputs) and the /_sandbox admin API."""

from __future__ import annotations

import httpx
import pytest

from tests.connectors.hubspot.sandbox.conftest import Sandbox


async def statuses(sbx: Sandbox, count: int) -> list[int]:
    return [(await sbx.http.get("/crm/v3/objects/contacts")).status_code for _ in range(count)]


async def test_forced_429_burst(sbx: Sandbox) -> None:
    sbx.state.config.faults.rate_limit_burst = 2
    assert await statuses(sbx, 3) == [429, 429, 200]
    assert sbx.state.stats.rate_limited == 2


async def test_error_rate_is_repeatable_with_a_seed(sbx: Sandbox) -> None:
    put = await sbx.http.put("/_sandbox/faults", json={"error_rate": 0.5, "seed": 7})
    assert put.status_code == 200
    first = await statuses(sbx, 20)
    await sbx.http.put("/_sandbox/faults", json={"seed": 7})
    second = await statuses(sbx, 20)
    assert first == second
    assert set(first) == {200, 503}
    failing = await sbx.http.get("/crm/v3/objects/contacts") if 503 in first else None
    assert failing is not None


async def test_injected_5xx_body_is_hubspot_shaped(sbx: Sandbox) -> None:
    await sbx.http.put("/_sandbox/faults", json={"error_rate": 1, "error_status": 502})
    response = await sbx.http.get("/crm/v3/objects/contacts")
    assert response.status_code == 502
    assert response.json()["correlationId"]


async def test_dropped_connection_is_a_transport_error(sbx: Sandbox) -> None:
    sbx.state.config.faults.drop_rate = 1.0
    with pytest.raises(httpx.TransportError):
        await sbx.http.get("/crm/v3/objects/contacts")
    assert sbx.state.stats.dropped == 1


async def test_record_failures_come_back_as_207(sbx: Sandbox) -> None:
    await sbx.http.put("/_sandbox/faults", json={"record_failure_rate": 0.5, "seed": 3})
    inputs = [{"properties": {"email": f"f{n}@x.de"}} for n in range(20)]
    response = await sbx.http.post("/crm/v3/objects/contacts/batch/create", json={"inputs": inputs})
    assert response.status_code == 207
    body = response.json()
    assert 0 < body["numErrors"] < 20
    assert len(body["results"]) + body["numErrors"] == 20
    assert body["errors"][0]["category"] == "VALIDATION_ERROR"
    stats = (await sbx.http.get("/_sandbox/stats")).json()
    assert stats["record_failures"] == body["numErrors"]
    assert stats["by_status"]["207"] == 1


async def test_admin_api(sbx: Sandbox) -> None:
    faults = (await sbx.http.get("/_sandbox/faults")).json()
    assert faults["error_rate"] == 0.0
    assert (await sbx.http.put("/_sandbox/faults", json={"nope": 1})).status_code == 400
    assert (await sbx.http.put("/_sandbox/faults", json={"latency_ms": "x"})).status_code == 400
    settings = await sbx.http.put("/_sandbox/settings", json={"search_lag_seconds": 5})
    assert settings.json()["search_lag_seconds"] == 5
    assert sbx.state.config.search_lag_seconds == 5
    await sbx.create("contacts", email="a@x.de")
    assert (await sbx.http.post("/_sandbox/reset")).status_code == 204
    assert (await sbx.http.get("/crm/v3/objects/contacts")).json()["results"] == []
    anonymous = await sbx.http.get("/_sandbox/stats", headers={"Authorization": ""})
    assert anonymous.status_code == 401


async def test_latency_is_added(sbx: Sandbox) -> None:
    sbx.state.config.faults.latency_ms = 30
    loop_time = __import__("asyncio").get_running_loop().time
    began = loop_time()
    await sbx.http.get("/crm/v3/objects/contacts")
    assert loop_time() - began >= 0.03
