"""Valid-looking requests for each RPC, naming customers that exist."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crm.v1 import channel_pb2, interaction_pb2
from crm.v1 import customer_history_service_pb2 as pb
from crm.v1.identity_pb2 import Identity
from crm.v1.note_pb2 import Note
from google.protobuf.message import Message

from tests.e2e.fuzz.messages import fill, message_class

SERVICE = pb.DESCRIPTOR.services_by_name["CustomerHistoryService"]


@dataclass
class World:
    """What the seeds refer to: customers that exist, and fresh identities."""

    rng: random.Random
    customers: list[str] = field(default_factory=list)
    emails: dict[str, str] = field(default_factory=dict)

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def new_email(self) -> str:
        return f"fuzz-{self.new_id()[:8]}@example.com"

    def customer(self) -> str:
        return self.rng.choice(self.customers)

    def known_email(self) -> str:
        return self.emails[self.customer()]


def interaction_seed(world: World, message: interaction_pb2.Interaction) -> None:
    rng = world.rng
    message.direction = channel_pb2.DIRECTION_INBOUND
    message.occurred_time.seconds = int(time.time()) - rng.randrange(86_400)
    message.tags.append("billing")
    kind = rng.randrange(3)
    if kind == 0:
        message.channel = channel_pb2.CHANNEL_EMAIL
        message.summary = "Where is my order?"
        message.email.subject = "Order 1234"
    elif kind == 1:
        message.channel = channel_pb2.CHANNEL_PHONE
        message.summary = "Called about a refund"
        message.phone_call.duration.seconds = 95
    else:
        message.channel = channel_pb2.CHANNEL_CHAT
        message.chat.messages.add(speaker=interaction_pb2.CHAT_SPEAKER_CUSTOMER, text="Hello?")


def _record(world: World) -> Message:
    request = pb.RecordInteractionRequest(request_id=world.new_id())
    if world.rng.random() < 0.5:
        request.identity.email = world.rng.choice([world.known_email(), world.new_email()])
    else:
        request.customer = world.customer()
    interaction_seed(world, request.interaction)
    return request


def _import(world: World) -> Message:
    request = pb.ImportInteractionsRequest()
    for _ in range(world.rng.randrange(1, 4)):
        record = request.interactions.add()
        record.identity.email = world.new_email()
        interaction_seed(world, record.interaction)
        record.interaction.external_id = world.new_id()
    return request


def _create(world: World) -> Message:
    request = pb.CreateCustomerRequest(request_id=world.new_id())
    request.customer.display_name = "Ada Lovelace"
    request.customer.language_code = "en"
    request.customer.tags.append("vip")
    request.customer.attributes["plan"] = "gold"
    request.customer.identities.add(email=world.new_email())
    return request


SEEDS: dict[str, Callable[[World], Message]] = {
    "RecordInteraction": _record,
    "ImportInteractions": _import,
    "CreateCustomer": _create,
    "GetCustomer": lambda w: pb.GetCustomerRequest(name=w.customer()),
    "LinkIdentity": lambda w: pb.LinkIdentityRequest(
        customer=w.customer(), identity=Identity(email=w.new_email()), reason="second address"
    ),
    "UnlinkIdentity": lambda w: pb.UnlinkIdentityRequest(
        customer=w.customer(), identity=Identity(email=w.known_email()), reason="not theirs"
    ),
    "MergeCustomers": lambda w: pb.MergeCustomersRequest(
        source=w.customer(), target=w.customer(), reason="same person", evidence="SAME_EMAIL"
    ),
    "UnmergeCustomer": lambda w: pb.UnmergeCustomerRequest(customer=w.customer(), reason="oops"),
    "FindCustomerByIdentity": lambda w: pb.FindCustomerByIdentityRequest(
        identity=Identity(email=w.known_email())
    ),
    "GetTimeline": lambda w: pb.GetTimelineRequest(
        customer=w.customer(), page_size=2, channels=[channel_pb2.CHANNEL_EMAIL]
    ),
    "AddNote": lambda w: pb.AddNoteRequest(
        customer=w.customer(), note=Note(text="Prefers a call back"), request_id=w.new_id()
    ),
    "WatchTimeline": lambda w: pb.WatchTimelineRequest(customer=w.customer(), after_position=1),
    "ReplayEvents": lambda w: pb.ReplayEventsRequest(after_position=1, page_size=3),
    "SearchCustomers": lambda w: pb.SearchCustomersRequest(name="ada", page_size=2),
    "ListMergeSuggestions": lambda w: pb.ListMergeSuggestionsRequest(page_size=5),
}


def seed_request(method: Any, world: World) -> Message:
    """A valid-looking request; RPCs added after this test get one from the descriptor."""
    if method.name in SEEDS:
        return SEEDS[method.name](world)
    request: Message = message_class(method.input_type)()
    fill(request, world.rng, world.customers)
    return request
