"""`crm demo-data`: fictional customers with histories on every channel, notes and a
merge, so a fresh console has timelines to show. Every write carries a fixed
request_id, so running it again adds nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import grpc
from crm.v1 import customer_history_service_pb2 as pb
from crm.v1 import (
    customer_history_service_pb2_grpc,
    customer_pb2,
    identity_pb2,
    interaction_pb2,
    note_pb2,
)
from google.protobuf import json_format
from google.protobuf.field_mask_pb2 import FieldMask

TIMEOUT = 30


@dataclass(frozen=True)
class DemoCustomer:
    """One fictional customer: how they first got in touch, then everything else."""

    key: str
    first_contact: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    profile: dict[str, Any] = field(default_factory=dict)
    more_identities: list[dict[str, Any]] = field(default_factory=list)


def _when(day: int, hour: int) -> str:
    return f"2025-11-{day:02d}T{hour:02d}:15:00Z"


# Names are invented; addresses are example.com/.net/.org and numbers come from the
# 020 7946 0xxx range Ofcom keeps for drama.
CUSTOMERS = [
    DemoCustomer(
        key="juniper",
        first_contact={
            "identity": {"email": "juniper.testwell@example.com"},
            "interaction": {
                "channel": "CHANNEL_EMAIL",
                "direction": "DIRECTION_INBOUND",
                "occurredTime": _when(3, 9),
                "summary": "Parcel marked delivered but never arrived",
                "body": "Hello, my order 1042 says delivered yesterday. Nothing here.",
                "email": {"subject": "Order 1042 missing", "messageId": "<demo-1042@example.com>"},
            },
        },
        history=[
            {
                "channel": "CHANNEL_PHONE",
                "direction": "DIRECTION_OUTBOUND",
                "occurredTime": _when(3, 11),
                "summary": "Called back: courier photo shows a neighbour's door",
                "phoneCall": {"duration": "312s", "disposition": "answered"},
            },
            {
                "channel": "CHANNEL_SMS",
                "direction": "DIRECTION_OUTBOUND",
                "occurredTime": _when(3, 12),
                "summary": "Sent the courier's claim reference",
            },
            {
                "channel": "CHANNEL_WHATSAPP",
                "direction": "DIRECTION_INBOUND",
                "occurredTime": _when(4, 8),
                "summary": "Neighbour had it all along. Thanks!",
            },
        ],
        notes=["Prefers a call before 12:00; works nights."],
        # First seen by email with no name; an agent set it later, as UpdateCustomer does.
        profile={
            "displayName": "Juniper Testwell",
            "languageCode": "en-GB",
            "preferredChannel": "CHANNEL_PHONE",
            "tags": ["vip"],
        },
        more_identities=[{"phone": "+44 20 7946 0101"}],
    ),
    DemoCustomer(
        key="marcus",
        first_contact={
            "identity": {"social": {"platform": "x", "handle": "marcus_placeholder"}},
            "interaction": {
                "channel": "CHANNEL_SOCIAL",
                "direction": "DIRECTION_INBOUND",
                "occurredTime": _when(5, 14),
                "summary": "Public post: app logs me out every five minutes",
                "social": {"platform": "x", "visibility": "SOCIAL_VISIBILITY_PUBLIC"},
            },
        },
        history=[
            {
                "channel": "CHANNEL_CHAT",
                "direction": "DIRECTION_INBOUND",
                "occurredTime": _when(5, 15),
                "summary": "Walked through clearing the app's data",
                "chat": {
                    "messages": [
                        {"speaker": "CHAT_SPEAKER_CUSTOMER", "text": "Still logged out."},
                        {"speaker": "CHAT_SPEAKER_AGENT", "text": "Try Settings > Storage."},
                        {"speaker": "CHAT_SPEAKER_CUSTOMER", "text": "That fixed it."},
                    ]
                },
            },
            {
                "channel": "CHANNEL_VIDEO_CALL",
                "direction": "DIRECTION_OUTBOUND",
                "occurredTime": _when(6, 10),
                "summary": "Showed the new login settings on a screen share",
            },
        ],
        notes=["Happy to be a beta tester for the next app release."],
        profile={"displayName": "Marcus Placeholder", "tags": ["beta"]},
    ),
    DemoCustomer(
        key="olu",
        first_contact={
            # A named address: the customer it creates takes the name.
            "identity": {"email": '"Olu Fictional" <olu.fictional@example.net>'},
            "interaction": {
                "channel": "CHANNEL_WEB_FORM",
                "direction": "DIRECTION_INBOUND",
                "occurredTime": _when(7, 16),
                "summary": "Asked to change the delivery address on a subscription",
            },
        },
        history=[
            {
                "channel": "CHANNEL_POSTAL_MAIL",
                "direction": "DIRECTION_OUTBOUND",
                "occurredTime": _when(10, 9),
                "summary": "Posted the signed change-of-address form",
            },
            {
                "channel": "CHANNEL_IN_PERSON",
                "direction": "DIRECTION_INBOUND",
                "occurredTime": _when(12, 13),
                "summary": "Returned the form at the Example Street shop",
            },
        ],
    ),
    DemoCustomer(
        key="priya",
        first_contact={
            "identity": {"email": "priya.sampleton@example.org"},
            "interaction": {
                "channel": "CHANNEL_EMAIL",
                "direction": "DIRECTION_INBOUND",
                "occurredTime": _when(8, 10),
                "summary": "Invoice shows the old plan's price",
            },
        },
        notes=["Refund of the difference approved by a supervisor."],
        profile={"displayName": "Priya Sampleton", "attributes": {"billing_id": "C-0001"}},
        more_identities=[{"external": {"system": "billing", "id": "C-0001"}}],
    ),
    # The same person again, first seen on the website chat: merged into Priya.
    DemoCustomer(
        key="priya-chat",
        first_contact={
            "identity": {"chatVisitorId": "demo-visitor-0001"},
            "interaction": {
                "channel": "CHANNEL_CHAT",
                "direction": "DIRECTION_INBOUND",
                "occurredTime": _when(8, 9),
                "summary": "Asked why the invoice went up; left before an agent answered",
            },
        },
    ),
]
MERGES = [("priya-chat", "priya", "Chat visitor gave Priya's invoice number")]


def load_demo_data(
    address: str, actor: str, caller_secret: str = "", if_empty: bool = False
) -> int:
    """Loads the demo customers; returns how many there are (0 if skipped)."""
    metadata: list[tuple[str, str]] = [("x-crm-actor", actor)]
    if caller_secret:
        metadata.append(("x-crm-caller-secret", caller_secret))
    with grpc.insecure_channel(address) as channel:
        grpc.channel_ready_future(channel).result(timeout=TIMEOUT)
        stub = customer_history_service_pb2_grpc.CustomerHistoryServiceStub(channel)
        demo = _Demo(stub, tuple(metadata))
        if if_empty and not demo.log_is_empty():
            return 0
        names = {customer.key: demo.load(customer) for customer in CUSTOMERS}
        for source, target, reason in MERGES:
            demo.merge(names[source], names[target], reason)
    return len(CUSTOMERS)


class _Demo:
    def __init__(self, stub: Any, metadata: tuple[tuple[str, str], ...]) -> None:
        self.stub = stub
        self.metadata = metadata

    def log_is_empty(self) -> bool:
        request = pb.ReplayEventsRequest(page_size=1)
        for page in self.stub.ReplayEvents(request, metadata=self.metadata, timeout=TIMEOUT):
            if page.events:
                return False
        return True

    def load(self, customer: DemoCustomer) -> str:
        first = self._record(
            json_format.ParseDict(customer.first_contact, pb.RecordInteractionRequest()),
            f"demo-{customer.key}-0",
        )
        name: str = first.interaction.customer
        for number, interaction in enumerate(customer.history, start=1):
            request = pb.RecordInteractionRequest(
                customer=name,
                interaction=json_format.ParseDict(interaction, interaction_pb2.Interaction()),
            )
            self._record(request, f"demo-{customer.key}-{number}")
        for identity in customer.more_identities:
            self.stub.LinkIdentity(
                pb.LinkIdentityRequest(
                    customer=name,
                    identity=json_format.ParseDict(identity, identity_pb2.Identity()),
                    reason="Given by the customer",
                ),
                metadata=self.metadata,
                timeout=TIMEOUT,
            )
        for number, text in enumerate(customer.notes):
            self.stub.AddNote(
                pb.AddNoteRequest(
                    customer=name,
                    note=note_pb2.Note(text=text),
                    request_id=f"demo-{customer.key}-note-{number}",
                ),
                metadata=self.metadata,
                timeout=TIMEOUT,
            )
        if customer.profile:
            self._update_profile(name, customer)
        return name

    def merge(self, source: str, target: str, reason: str) -> None:
        found = self.stub.GetCustomer(pb.GetCustomerRequest(name=source), timeout=TIMEOUT)
        if found.redirected_from:
            return  # Merged by an earlier run.
        self.stub.MergeCustomers(
            pb.MergeCustomersRequest(source=source, target=target, reason=reason),
            metadata=self.metadata,
            timeout=TIMEOUT,
        )

    def _record(self, request: pb.RecordInteractionRequest, request_id: str) -> Any:
        request.request_id = request_id
        return self.stub.RecordInteraction(request, metadata=self.metadata, timeout=TIMEOUT)

    def _update_profile(self, name: str, customer: DemoCustomer) -> None:
        profile = json_format.ParseDict(customer.profile, customer_pb2.Customer())
        profile.name = name
        self.stub.UpdateCustomer(
            pb.UpdateCustomerRequest(
                customer=profile,
                update_mask=FieldMask(
                    paths=[f.name for f, _ in profile.ListFields() if f.name != "name"]
                ),
                request_id=f"demo-{customer.key}-profile",
                reason="Told us on the phone",
            ),
            metadata=self.metadata,
            timeout=TIMEOUT,
        )
