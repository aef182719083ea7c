"""Builds long event logs quickly, from real events saved in bulk."""

from __future__ import annotations

from uuid import UUID, uuid4

from services.crm.application import CustomerHistory
from services.crm.domain.interaction import Interaction
from tests.builders import AGENT, content


def seed_interactions(app: CustomerHistory, customer_id: UUID, count: int) -> list[Interaction]:
    """Real Interaction.Recorded events, saved in bulk to build a long log quickly."""
    made = [
        Interaction(
            idempotency_key=f"request:{uuid4()}",
            customer_id=customer_id,
            content=content(),
            identity=None,
            fingerprint="seed",
            customer_created=False,
            cause=AGENT,
        )
        for _ in range(count)
    ]
    for start in range(0, count, 500):
        app.save(*made[start : start + 500])
    return made
