"""The gateway serves WatchTimeline as Server-Sent Events that resume with Last-Event-ID."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest

from tests import random_refs
from tests.e2e.gateway_server import crm_process, serve_gateway
from tests.e2e.http_helpers import record_by_email

KEY = {"Authorization": "ApiKey sse-key"}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    with (
        crm_process(request, tmp_path_factory.mktemp("crm")) as crm,
        serve_gateway(
            f"127.0.0.1:{crm.port}", CRM_GATEWAY_API_KEYS="sse-key=agent@agent:sse-test"
        ) as process,
        httpx.Client(base_url=process.url, timeout=30) as client,
    ):
        yield client


def record(client: httpx.Client, email: str, summary: str) -> dict[str, Any]:
    return record_by_email(client, KEY, email, summary, channel="CHANNEL_CHAT")


def read_events(lines: Iterator[str], count: int) -> list[dict[str, Any]]:
    """The next count events, each as {"id", "event", "data"}; comments skipped."""
    events: list[dict[str, Any]] = []
    event: dict[str, Any] = {}
    for line in lines:
        if not line:
            if "data" in event:
                events.append(event)
                if len(events) == count:
                    return events
            event = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            event[name] = json.loads(value) if name == "data" else value.strip()
    raise AssertionError(f"the stream ended after {len(events)} of {count} events")


def test_a_dropped_event_stream_resumes_after_the_last_event_id(gateway: httpx.Client) -> None:
    email = random_refs.email()
    first = record(gateway, email, "first")
    customer = first["interaction"]["customer"]
    watch = f"/v1/{customer}/timeline:watch"

    with gateway.stream("GET", watch, headers=KEY, params={"afterPosition": 0}) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        (seen,) = read_events(stream.iter_lines(), 1)
    # Disconnected. Meanwhile two more arrive.
    record(gateway, email, "second")
    record(gateway, email, "third")
    resume = {**KEY, "Last-Event-ID": seen["id"]}
    with gateway.stream("GET", watch, headers=resume) as stream:
        resumed = read_events(stream.iter_lines(), 2)

    assert seen["event"] == "entry"
    assert seen["data"]["entry"]["interaction"]["summary"] == "first"
    assert seen["id"] == seen["data"]["entry"]["position"]
    assert [e["data"]["entry"]["interaction"]["summary"] for e in resumed] == [
        "second",
        "third",
    ]


def test_a_watch_the_crm_refuses_is_an_http_error_not_a_stream(gateway: httpx.Client) -> None:
    response = gateway.get(
        "/v1/customers/00000000-0000-4000-8000-000000000000/timeline:watch", headers=KEY
    )

    assert response.status_code == 404
    assert response.json()["error"]["details"][0]["reason"] == "CUSTOMER_NOT_FOUND"


@pytest.mark.parametrize("last_event_id", [b"yesterday", b"99999999999999999999", b"\xb2"])
def test_a_last_event_id_that_is_not_a_position_is_a_bad_request(
    gateway: httpx.Client, last_event_id: bytes
) -> None:
    customer = record(gateway, random_refs.email(), "hello")["interaction"]["customer"]

    response = gateway.get(
        f"/v1/{customer}/timeline:watch",
        headers={b"Authorization": KEY["Authorization"].encode(), b"Last-Event-ID": last_event_id},
    )

    assert response.status_code == 400
    assert "Last-Event-ID" in response.json()["error"]["message"]


def test_a_watch_with_nothing_new_yet_answers_at_once(gateway: httpx.Client) -> None:
    recorded = record(gateway, random_refs.email(), "hello")
    watch = f"/v1/{recorded['interaction']['customer']}/timeline:watch"
    after = {"afterPosition": recorded["commitPosition"]}

    # Headers and the retry hint come before any entry, so proxies and browsers see
    # a live stream rather than a hanging request.
    with gateway.stream("GET", watch, headers=KEY, params=after, timeout=5) as stream:
        assert stream.status_code == 200
        assert next(stream.iter_lines()).startswith("retry:")
