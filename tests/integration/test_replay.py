"""Replaying the log, also when its stored events are compressed."""

from __future__ import annotations

from services.crm.domain.cause import Cause
from services.crm.domain.identity import Identity
from services.crm.projections.runner import open_application
from tests import random_refs
from tests.builders import content


def test_a_compressed_log_replays_with_who_and_when(env: dict[str, str]) -> None:
    # Stored state that is not plain JSON takes the path through the library's mapper.
    app = open_application({**env, "COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor"})
    try:
        cause = Cause(actor="agent:auditor-test", correlation_id="replay-compressed")
        recorded = app.record_interaction(Identity.email(random_refs.email()), content(), cause, "")

        (page,) = app.replay(recorded.position - 1, recorded.position, 10, lambda: True)
    finally:
        app.close()

    (event,) = page
    assert (event.topic, event.actor, event.correlation_id) == (
        "crm.Interaction.Recorded",
        "agent:auditor-test",
        "replay-compressed",
    )
    assert event.recorded_at == recorded.interaction.recorded_at
