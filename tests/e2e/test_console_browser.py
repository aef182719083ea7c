"""The agent console in Chromium, against a real gateway, CRM and database."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Page, expect

from services.gateway.auth import issue_token
from services.gateway.roles import Role
from tests import random_refs
from tests.e2e.browser import ARTIFACTS, chromium
from tests.e2e.gateway_server import serve_gateway

# The browser sees the same HTTP either way; one backend is enough.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

SECRET = "console-test-signing-key-0123456789"
NAME = "Zoë Ångström"


@dataclass(frozen=True)
class Gateway:
    url: str

    def call(self, method: str, path: str, body: Any = None, agent: str = "seeder") -> Any:
        token = issue_token(agent, Role.AGENT, SECRET)
        request = urllib.request.Request(
            self.url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())


@pytest.fixture
def gateway(database_url: str, start_server: Any) -> Iterator[Gateway]:
    crm = start_server(database_url)
    with serve_gateway(f"127.0.0.1:{crm.port}", CRM_GATEWAY_JWT_SECRET=SECRET) as process:
        yield Gateway(process.url)


@pytest.fixture
def page(gateway: Gateway) -> Iterator[Page]:
    with chromium() as browser:
        context = browser.new_context(
            viewport={"width": 1280, "height": 900},
            locale="en-US",
            timezone_id="America/New_York",
        )
        yield context.new_page()
        context.close()


def record(gateway: Gateway, customer: str, when: datetime, interaction: dict[str, Any]) -> str:
    """Records an interaction as another agent would; returns its commit position."""
    answer = gateway.call(
        "POST",
        "/v1/interactions:record",
        {
            "customer": customer,
            "requestId": random_refs.request_id(),
            "interaction": {"occurredTime": when.isoformat().replace("+00:00", "Z")} | interaction,
        },
        agent="bob",
    )
    return str(answer["commitPosition"])


def seed_customer_with_three_channels(gateway: Gateway, email: str, phone: str) -> str:
    """A customer with an email, a call and a chat, recorded out of time order."""
    created = gateway.call(
        "POST",
        "/v1/customers",
        {"displayName": NAME, "identities": [{"email": email}, {"phone": phone}]},
    )
    customer = str(created["customer"]["name"])
    now = datetime.now(UTC)
    record(
        gateway,
        customer,
        now - timedelta(hours=1),
        {
            "channel": "CHANNEL_CHAT",
            "direction": "DIRECTION_INBOUND",
            "summary": "Asked for a delivery date",
            "chat": {"messages": [{"speaker": "CHAT_SPEAKER_CUSTOMER", "text": "When?"}]},
        },
    )
    record(
        gateway,
        customer,
        now - timedelta(hours=3),
        {
            "channel": "CHANNEL_EMAIL",
            "direction": "DIRECTION_INBOUND",
            "summary": "Where is my order?",
            "email": {"subject": "Order 1042"},
        },
    )
    position = record(
        gateway,
        customer,
        now - timedelta(hours=2),
        {
            "channel": "CHANNEL_PHONE",
            "direction": "DIRECTION_OUTBOUND",
            "summary": "Called back about order 1042",
            "phoneCall": {"duration": "312s", "disposition": "resolved"},
        },
    )
    # Let the read models catch up before the page reads them.
    query = urlencode({"name": "zoe", "minPosition": position})
    gateway.call("GET", f"/v1/customers:search?{query}")
    gateway.call("GET", f"/v1/{customer}/timeline?minPosition={position}")
    return customer


def search(page: Page, text: str) -> None:
    box = page.get_by_role("searchbox", name="Find a customer")
    box.fill(text)
    box.press("Enter")


def test_an_agent_finds_a_customer_reads_every_channel_adds_a_note_and_sees_new_entries_live(
    gateway: Gateway, page: Page
) -> None:
    email, phone = random_refs.email(), random_refs.phone()
    customer = seed_customer_with_three_channels(gateway, email, phone)
    token = issue_token("alice smith|idp", Role.AGENT, SECRET)

    page.goto(f"{gateway.url}/console/#token={token}")
    expect(page.locator("#agent-name")).to_have_text("alice smith|idp · agent")
    expect(page).not_to_have_url(re.compile("token"))

    results = page.get_by_role("list", name="Search results").get_by_role("button")
    # Any spelling finds the customer: accents and case in names, 00 for + in phones.
    spellings = [("zoe ång", "name"), (phone.replace("+", "00"), "phone"), (email.upper(), "email")]
    for text, kind in spellings:
        search(page, text)
        expect(page.get_by_text(f"1 found by {kind}")).to_be_visible()
        expect(results).to_have_text([re.compile(NAME)])
    results.first.click()

    expect(page.get_by_role("heading", name=NAME)).to_be_visible()
    expect(page).to_have_url(re.compile(f"#customer={customer}$"))
    timeline = page.get_by_role("list", name="Timeline, newest first")
    interactions = timeline.locator("li.interaction")
    expect(interactions.locator(".entry-label")).to_have_text(["Chat", "Phone call", "Email"])
    expect(interactions.locator(".entry-title")).to_have_text(
        ["Asked for a delivery date", "Called back about order 1042", "Where is my order?"]
    )
    expect(interactions.locator(".direction")).to_have_text(["Inbound", "Outbound", "Inbound"])
    expect(interactions.locator("time").first).to_have_text(re.compile(r"E[SD]T$"))
    expect(page.get_by_text("Times in America/New_York")).to_be_visible()
    page.evaluate("window.notReloaded = true")

    note = "Prefers email; promised a call back on Friday."
    page.get_by_label("Add a note for the next agent").fill(note)
    page.get_by_role("button", name="Add note").click()
    expect(timeline.locator("li.note .entry-title")).to_have_text([note])
    expect(timeline.locator("li.note .entry-meta")).to_have_text("Written by agent:alice smith|idp")
    expect(page.get_by_label("Add a note for the next agent")).to_have_value("")

    expect(page.locator("#live")).to_have_text("Live")
    record(
        gateway,
        customer,
        datetime.now(UTC),
        {"channel": "CHANNEL_SMS", "direction": "DIRECTION_INBOUND", "summary": "Parcel arrived"},
    )
    expect(timeline.locator(":scope > li .entry-title").first).to_have_text("Parcel arrived")
    expect(timeline.locator("li.interaction")).to_have_count(4)
    expect(timeline.locator("li.note")).to_have_count(1)
    assert page.evaluate("window.notReloaded") is True

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / "console-1280.png")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=ARTIFACTS / "console-390.png", full_page=True)


def test_a_refused_token_returns_the_agent_to_the_sign_in_form(
    gateway: Gateway, page: Page
) -> None:
    customer = f"customers/{random_refs.request_id()}"
    page.goto(f"{gateway.url}/console/#token=not-a-token&customer={customer}")

    expect(page.get_by_role("alert")).to_have_text(re.compile("Sign in again"))
    expect(page.get_by_label("Agent token")).to_be_focused()
    expect(page).to_have_url(re.compile(f"#customer={customer}$"))


def test_an_agent_names_a_customer_first_seen_by_email_and_the_timeline_says_who_and_why(
    gateway: Gateway, page: Page
) -> None:
    email = random_refs.email()
    recorded = gateway.call(
        "POST",
        "/v1/interactions:record",
        {
            "identity": {"email": email},
            "interaction": {
                "channel": "CHANNEL_EMAIL",
                "direction": "DIRECTION_INBOUND",
                "summary": "Where is my order?",
            },
        },
    )
    customer = recorded["interaction"]["customer"]
    gateway.call("GET", f"/v1/{customer}/timeline?minPosition={recorded['commitPosition']}")
    token = issue_token("alice", Role.AGENT, SECRET)

    page.goto(f"{gateway.url}/console/#token={token}&customer={customer}")
    expect(page.get_by_role("heading", name=email)).to_be_visible()
    page.get_by_role("button", name="Set name").click()
    page.get_by_label("Customer's name").fill("Ada Lovelace")
    page.get_by_label("Why the change").fill("She spelled it out on the call")
    page.get_by_role("button", name="Save name").click()

    expect(page.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    timeline = page.get_by_role("list", name="Timeline, newest first")
    change = timeline.locator("li.change").first
    expect(change.locator(".entry-title")).to_have_text("Name set to “Ada Lovelace”")
    expect(change.locator(".entry-details")).to_have_text("Reason: She spelled it out on the call")
    expect(change.locator(".entry-meta")).to_have_text("By agent:alice")
    expect(page.get_by_role("button", name="Correct name")).to_be_visible()
    search(page, "ada love")
    expect(page.get_by_role("list", name="Search results")).to_have_text(re.compile("Ada Lovelace"))

    expect(page.locator("#live")).to_have_text("Live")
    body = {"customer": {"displayName": "Ada King"}, "updateMask": "displayName"}
    gateway.call("PATCH", f"/v1/{customer}", body, agent="bob")
    expect(page.get_by_role("heading", name="Ada King")).to_be_visible()
    expect(change.locator(".entry-title")).to_have_text("Name set to “Ada King”")
