"""What the benchmark sends and stores: synthetic requests and seeded histories."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from crm.v1 import channel_pb2, identity_pb2, interaction_pb2
from crm.v1 import customer_history_service_pb2 as pb

from services.crm.application import CustomerHistory
from services.crm.domain.cause import Cause
from services.crm.domain.channels import Channel, Direction
from services.crm.domain.identity import Identity, IdentityKind
from services.crm.domain.interaction import Interaction, InteractionContent

SEEDER = Cause(actor="service:bench-seeder", correlation_id="bench")
SEED_BATCH = 500


def email(number: object) -> str:
    return f"bench-{number}@example.com"


def record_requests(count: int, existing: list[str], existing_share: float) -> list[bytes]:
    """RecordInteraction requests: a share for customers already known, the rest for
    addresses never seen (each new address is used once in the list)."""
    made = []
    for _ in range(count):
        address = random.choice(existing) if random.random() < existing_share else email(uuid4())
        made.append(record_request(address).SerializeToString())
    return made


def record_request(
    address: str, summary: str = "Where is my order? It was due on Monday."
) -> pb.RecordInteractionRequest:
    return pb.RecordInteractionRequest(
        identity=identity_pb2.Identity(email=address),
        interaction=interaction_pb2.Interaction(
            channel=channel_pb2.CHANNEL_EMAIL,
            direction=channel_pb2.DIRECTION_INBOUND,
            summary=summary,
        ),
    )


def timeline_requests(customers: list[str], page_size: int = 50) -> list[bytes]:
    return [
        pb.GetTimelineRequest(customer=customer, page_size=page_size).SerializeToString()
        for customer in customers
    ]


def seed_store(app: CustomerHistory, total_events: int, read_customer_interactions: int) -> UUID:
    """A log of about total_events events: one customer with the given number of
    interactions (the one the benchmark reads), the rest spread over many customers."""
    read_customer = app.record_interaction(
        Identity(IdentityKind.EMAIL, email("reader")), _content(0), SEEDER, ""
    ).interaction.customer_id
    _save_interactions(app, [read_customer] * read_customer_interactions)
    others = max(total_events - read_customer_interactions, 0)
    customers = [uuid4() for _ in range(max(others // 20, 1))]
    _save_interactions(app, [customers[n % len(customers)] for n in range(others)])
    return read_customer


def _save_interactions(app: CustomerHistory, owners: list[UUID]) -> None:
    for start in range(0, len(owners), SEED_BATCH):
        app.save(
            *(
                Interaction(
                    idempotency_key=f"random:{uuid4()}",
                    customer_id=owner,
                    content=_content(start + offset),
                    identity=None,
                    fingerprint="seed",
                    customer_created=False,
                    cause=SEEDER,
                )
                for offset, owner in enumerate(owners[start : start + SEED_BATCH])
            )
        )


def _content(number: int) -> InteractionContent:
    return InteractionContent(
        channel=(Channel.EMAIL, Channel.PHONE, Channel.CHAT)[number % 3],
        direction=Direction.INBOUND,
        occurred_at=datetime.now(UTC) - timedelta(seconds=number),
        summary=f"Seeded interaction {number}",
    )
