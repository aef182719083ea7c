"""ImportInteractions: bulk records from another system, each once, failures by index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from crm.v1 import customer_history_service_pb2 as pb
from crm.v1 import identity_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from services.crm.server import RunningService
from tests import random_refs
from tests.e2e.grpc_helpers import ErrorDetails, email_interaction

SERVICE_METADATA = (("x-crm-actor", "service:legacy-import"),)


def imported(email: str, external_id: str, days_ago: int = 1, **overrides: Any) -> Any:
    when = Timestamp()
    when.FromDatetime(datetime.now(UTC) - timedelta(days=days_ago))
    values: dict[str, Any] = {"external_id": external_id, "occurred_time": when}
    values.update(overrides)
    return pb.RecordInteractionRequest(
        identity=identity_pb2.Identity(email=email), interaction=email_interaction(**values)
    )


def run_import(stub: Any, records: list[Any]) -> pb.ImportInteractionsResponse:
    response: pb.ImportInteractionsResponse = stub.ImportInteractions(
        pb.ImportInteractionsRequest(interactions=records), metadata=SERVICE_METADATA, timeout=60
    )
    return response


def timeline_summaries(stub: Any, email: str, position: int) -> list[str]:
    found = stub.SearchCustomers(
        pb.SearchCustomersRequest(
            identity=identity_pb2.Identity(email=email), min_position=position
        ),
        timeout=30,
    )
    page = stub.GetTimeline(
        pb.GetTimelineRequest(customer=found.customers[0].name, min_position=position),
        timeout=30,
    )
    return [entry.interaction.summary for entry in page.entries]


def test_good_records_are_imported_and_bad_ones_reported_by_index(stub: Any) -> None:
    email, batch = random_refs.email(), random_refs.suffix()
    records = [
        imported(email, f"{batch}-1", days_ago=2, summary="first"),
        imported("not-an-email", f"{batch}-2"),
        imported(email, f"{batch}-3", days_ago=1, summary="second"),
        imported(email, "", summary="no source id"),
        pb.RecordInteractionRequest(
            identity=identity_pb2.Identity(email=email),
            interaction=email_interaction(external_id=f"{batch}-5"),
        ),
    ]

    response = run_import(stub, records)

    assert response.imported_count == 2
    assert {f.index: f.reason for f in response.failures} == {
        1: "INVALID_EMAIL",
        3: "EXTERNAL_ID_REQUIRED",
        4: "OCCURRED_TIME_REQUIRED",
    }
    assert response.failures[0].field_violations[0].field == "identity.email"
    assert timeline_summaries(stub, email, response.commit_position) == ["second", "first"]


def test_importing_the_same_records_again_records_nothing(
    stub: Any, service: RunningService
) -> None:
    email, batch = random_refs.email(), random_refs.suffix()
    records = [imported(email, f"{batch}-{n}", days_ago=n + 1) for n in range(20)]
    first = run_import(stub, records)
    log_end = service.app.recorder.max_notification_id()

    again = run_import(stub, records)

    assert (first.imported_count, first.already_imported_count) == (20, 0)
    assert (again.imported_count, again.already_imported_count) == (0, 20)
    assert service.app.recorder.max_notification_id() == log_end
    assert len(timeline_summaries(stub, email, again.commit_position)) == 20


def test_a_source_id_twice_in_one_batch_is_imported_once(stub: Any) -> None:
    email, batch = random_refs.email(), random_refs.suffix()
    record = imported(email, f"{batch}-dup")

    response = run_import(stub, [record, record, imported(email, f"{batch}-other")])

    assert (response.imported_count, response.already_imported_count) == (2, 1)
    assert len(timeline_summaries(stub, email, response.commit_position)) == 2


@pytest.mark.parametrize("count", [0, 1_001])
def test_an_empty_or_oversized_batch_is_refused(stub: Any, count: int) -> None:
    records = [imported(random_refs.email(), f"x-{n}") for n in range(count)]

    with pytest.raises(grpc.RpcError) as raised:
        run_import(stub, records)

    error = ErrorDetails(raised.value)
    assert (error.code, error.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_BATCH_SIZE")
