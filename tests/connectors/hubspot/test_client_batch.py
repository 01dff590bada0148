"""Batch calls: per-input results from 200/201/207, whole-batch failures split, chunking."""

from __future__ import annotations

import json

import httpx
import respx

from app.connectors.hubspot.associations import AssociationInput
from app.connectors.hubspot.client import HubSpotClient
from app.connectors.hubspot.objects import RecordInput
from tests.connectors.hubspot.fakes import error_body, record

CREATE = "/crm/v3/objects/contacts/batch/create"


def sent_inputs(request: httpx.Request) -> list[dict[str, object]]:
    """The ``inputs`` of a batch request."""
    inputs: list[dict[str, object]] = json.loads(request.content)["inputs"]
    return inputs


def emails(n: int) -> list[RecordInput]:
    """``n`` contacts to create."""
    return [RecordInput({"email": f"c{i}@x.de"}) for i in range(n)]


class TestMultiStatus:
    async def test_207_pairs_each_input_with_its_outcome(
        self, client: HubSpotClient, router: respx.MockRouter
    ) -> None:
        def answer(request: httpx.Request) -> httpx.Response:
            traces = [i["objectWriteTraceId"] for i in sent_inputs(request)]
            ok = record("11", email="c0@x.de") | {"objectWriteTraceId": traces[0]}
            ok2 = record("12", email="c2@x.de") | {"objectWriteTraceId": traces[2]}
            bad = error_body("VALIDATION_ERROR", "Property values were not valid")
            bad["context"] = {"objectWriteTraceId": [traces[1]]}
            return httpx.Response(
                207, json={"status": "COMPLETE", "results": [ok2, ok], "errors": [bad]}
            )

        router.post(CREATE).mock(side_effect=answer)
        items = emails(3)
        result = await client.objects.batch_create("contacts", items)
        assert {(s.input.properties["email"], s.result.id) for s in result.succeeded} == {
            ("c0@x.de", "11"),
            ("c2@x.de", "12"),
        }
        assert [f.input for f in result.failed] == [items[1]]
        assert result.failed[0].category == "VALIDATION_ERROR"

    async def test_every_input_gets_a_unique_trace_id(
        self, client: HubSpotClient, router: respx.MockRouter
    ) -> None:
        route = router.post(CREATE).respond(201, json={"status": "COMPLETE", "results": []})
        await client.objects.batch_create("contacts", emails(3))
        traces = [i["objectWriteTraceId"] for i in sent_inputs(route.calls.last.request)]
        assert len(set(traces)) == 3

    async def test_batch_read_reports_missing_ids(
        self, client: HubSpotClient, router: respx.MockRouter
    ) -> None:
        body = {
            "status": "COMPLETE",
            "results": [record("1")],
            "errors": [
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": "gone",
                    "context": {"ids": ["2"]},
                }
            ],
        }
        router.post("/crm/v3/objects/contacts/batch/read").respond(207, json=body)
        result = await client.objects.batch_read("contacts", ["1", "2"], properties=["email"])
        assert [s.input for s in result.succeeded] == ["1"]
        assert [(f.input, f.category) for f in result.failed] == [("2", "OBJECT_NOT_FOUND")]

    async def test_chunks_of_one_hundred(
        self, client: HubSpotClient, router: respx.MockRouter
    ) -> None:
        def echo(request: httpx.Request) -> httpx.Response:
            done = [record(str(i["id"])) for i in sent_inputs(request)]
            return httpx.Response(200, json={"status": "COMPLETE", "results": done})

        route = router.post("/crm/v3/objects/contacts/batch/update").mock(side_effect=echo)
        items = [RecordInput({"firstname": "x"}, id=str(i)) for i in range(250)]
        result = await client.objects.batch_update("contacts", items)
        assert [len(sent_inputs(c.request)) for c in route.calls] == [100, 100, 50]
        assert len(result.succeeded) == 250
        assert result.ok


class TestWholeBatchRejection:
    async def test_one_bad_record_does_not_sink_the_batch(
        self, client: HubSpotClient, router: respx.MockRouter
    ) -> None:
        def answer(request: httpx.Request) -> httpx.Response:
            inputs = sent_inputs(request)
            if any(i["properties"] == {"email": "c5@x.de"} for i in inputs):
                return httpx.Response(
                    409, json=error_body("CONFLICT", "Contact already exists. Existing ID: 77")
                )
            done = [
                record(str(100 + n)) | {"objectWriteTraceId": i["objectWriteTraceId"]}
                for n, i in enumerate(inputs)
            ]
            return httpx.Response(201, json={"status": "COMPLETE", "results": done})

        router.post(CREATE).mock(side_effect=answer)
        items = emails(16)
        result = await client.objects.batch_create("contacts", items)
        assert len(result.succeeded) == 15
        assert [f.input for f in result.failed] == [items[5]]
        assert result.failed[0].status == 409
        assert "77" in result.failed[0].message
        assert router.calls.call_count <= 2 * 4 + 1  # bisection: about 2·log2(n) calls

    async def test_inputs_named_by_the_error_fail_and_the_rest_is_resent(
        self, client: HubSpotClient, router: respx.MockRouter
    ) -> None:
        def answer(request: httpx.Request) -> httpx.Response:
            inputs = sent_inputs(request)
            if len(inputs) == 4:
                bad = error_body(
                    "VALIDATION_ERROR",
                    "invalid email",
                    context={"objectWriteTraceId": [inputs[2]["objectWriteTraceId"]]},
                )
                return httpx.Response(400, json=bad)
            done = [
                record(str(n)) | {"objectWriteTraceId": i["objectWriteTraceId"]}
                for n, i in enumerate(inputs)
            ]
            return httpx.Response(201, json={"status": "COMPLETE", "results": done})

        router.post(CREATE).mock(side_effect=answer)
        items = emails(4)
        result = await client.objects.batch_create("contacts", items)
        assert [f.input for f in result.failed] == [items[2]]
        assert len(result.succeeded) == 3
        assert router.calls.call_count == 2


class TestAssociations:
    async def test_read_follows_paging_per_input(
        self, client: HubSpotClient, router: respx.MockRouter
    ) -> None:
        def answer(request: httpx.Request) -> httpx.Response:
            rows = []
            for item in sent_inputs(request):
                after = item.get("after")
                to = [
                    {
                        "toObjectId": f"{item['id']}-{after or 0}",
                        "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 279}],
                    }
                ]
                row = {"from": {"id": item["id"]}, "to": to}
                if item["id"] == "1" and not after:
                    row["paging"] = {"next": {"after": "p2"}}
                rows.append(row)
            return httpx.Response(200, json={"status": "COMPLETE", "results": rows})

        router.post("/crm/v4/associations/contacts/companies/batch/read").mock(side_effect=answer)
        result = await client.associations.read("contacts", "companies", ["1", "2"])
        found = {s.input: [a.to_object_id for a in s.result] for s in result.succeeded}
        assert found == {"1": ["1-0", "1-p2"], "2": ["2-0"]}
        assert router.calls.call_count == 2

    async def test_default_create(self, client: HubSpotClient, router: respx.MockRouter) -> None:
        links = [
            {
                "from": {"id": "1"},
                "to": {"id": "9"},
                "associationSpec": {
                    "associationCategory": "HUBSPOT_DEFINED",
                    "associationTypeId": 279,
                },
            }
        ]
        route = router.post("/crm/v4/associations/contacts/companies/batch/associate/default")
        route.respond(200, json={"status": "COMPLETE", "results": links})
        result = await client.associations.create_default(
            "contacts", "companies", [AssociationInput("1", "9")]
        )
        assert result.ok
        assert result.succeeded[0].result.to_id == "9"
        assert sent_inputs(route.calls.last.request) == [{"from": {"id": "1"}, "to": {"id": "9"}}]
