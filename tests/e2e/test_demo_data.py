"""`crm demo-data` as its own process against the service as another: fictional
customers with histories on every channel, loaded once however often it runs."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

from crm.v1 import channel_pb2
from crm.v1 import customer_history_service_pb2 as pb

from tests.e2e.conftest import AGENT_METADATA
from tests.e2e.logged_process import ROOT
from tests.e2e.server_process import ServerProcess

EVERY_CHANNEL = {
    "CHANNEL_PHONE",
    "CHANNEL_EMAIL",
    "CHANNEL_CHAT",
    "CHANNEL_SOCIAL",
    "CHANNEL_SMS",
    "CHANNEL_WHATSAPP",
    "CHANNEL_VIDEO_CALL",
    "CHANNEL_IN_PERSON",
    "CHANNEL_POSTAL_MAIL",
    "CHANNEL_WEB_FORM",
}


def demo_data(crm: ServerProcess, *flags: str) -> str:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "services.crm",
            "demo-data",
            "--address",
            f"127.0.0.1:{crm.port}",
            *list(flags),
        ],
        cwd=ROOT,
        env=crm.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def log_end(stub: Any) -> int:
    pages = stub.ReplayEvents(pb.ReplayEventsRequest(), metadata=AGENT_METADATA, timeout=30)
    return max((page.position for page in pages), default=0)


def timeline_of(stub: Any, words: str, position: int) -> tuple[str, list[pb.TimelineEntry]]:
    found = stub.SearchCustomers(
        pb.SearchCustomersRequest(name=words, min_position=position), timeout=30
    ).customers
    assert len(found) == 1, f"{words!r} found {len(found)} customers"
    entries = stub.GetTimeline(
        pb.GetTimelineRequest(customer=found[0].name, min_position=position), timeout=30
    ).entries
    return found[0].display_name, list(entries)


def test_demo_data_fills_an_empty_database_once_with_every_channel(
    database_url: str, start_server: Callable[..., ServerProcess]
) -> None:
    crm = start_server(database_url)

    first = demo_data(crm, "--if-empty")
    loaded_up_to = log_end(crm.stub)
    second = demo_data(crm)
    skipped = demo_data(crm, "--if-empty")

    assert "5 fictional customers" in first
    assert log_end(crm.stub) == loaded_up_to
    assert "nothing added" in skipped
    assert "nothing added" not in second
    timelines = {
        words: timeline_of(crm.stub, words, loaded_up_to)
        for words in ("juniper", "marcus", "olu", "priya")
    }
    channels = {
        channel_pb2.Channel.Name(entry.interaction.channel)
        for _, entries in timelines.values()
        for entry in entries
        if entry.HasField("interaction")
    }
    kinds = {e.WhichOneof("kind") for _, entries in timelines.values() for e in entries}
    priya_changes = [e.customer_change.kind for e in timelines["priya"][1] if e.customer_change]
    assert channels == EVERY_CHANNEL
    assert kinds == {"interaction", "note", "customer_change"}
    assert pb.CUSTOMER_CHANGE_KIND_MERGED_FROM in priya_changes
    assert timelines["olu"][0] == "Olu Fictional"
    assert timelines["juniper"][0] == "Juniper Testwell"
