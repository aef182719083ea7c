"""Each domain error pinned to its reason, its gRPC code and the gateway's HTTP status,
as the README's Errors table and google/rpc/code.proto state them."""

from __future__ import annotations

import importlib
import pkgutil

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

import services.crm
from services.crm.api.errors import (
    CallerUnauthenticatedError,
    MalformedRequestError,
    to_grpc_status,
)
from services.crm.api.watchers import TooManyReplaysError, TooManyWatchersError
from services.crm.application import ConcurrentUpdateError, ProjectionLaggingError
from services.crm.application.results import (
    DatabaseUnavailableError,
    DeadlinePassedError,
    ServiceStoppingError,
)
from services.crm.domain import errors
from services.crm.domain.cases.case_errors import (
    CaseClosedError,
    CaseNotEscalatedError,
    InvalidCaseTransitionError,
)
from services.crm.domain.cases.status import CaseStatus
from services.crm.domain.errors import CrmError, FieldViolation, InvalidInputError
from services.crm.domain.profile import EtagMismatchError
from services.gateway.errors import HTTP_STATUS

C = grpc.StatusCode
EXPECTED: list[tuple[CrmError, str, grpc.StatusCode, int]] = [
    (InvalidInputError.single("f", "INVALID_EMAIL", "d"), "INVALID_EMAIL", C.INVALID_ARGUMENT, 400),
    (MalformedRequestError(), "MALFORMED_REQUEST", C.INVALID_ARGUMENT, 400),
    (errors.RequestIdReusedError(), "REQUEST_ID_REUSED", C.INVALID_ARGUMENT, 400),
    (errors.CustomerNotFoundError("c"), "CUSTOMER_NOT_FOUND", C.NOT_FOUND, 404),
    (errors.IdentityNotFoundError(), "IDENTITY_NOT_FOUND", C.NOT_FOUND, 404),
    (
        errors.IdentityAlreadyLinkedError("email", "h"),
        "IDENTITY_ALREADY_LINKED",
        C.ALREADY_EXISTS,
        409,
    ),
    (
        errors.InteractionAlreadyRecordedError("i"),
        "INTERACTION_ALREADY_RECORDED",
        C.ALREADY_EXISTS,
        409,
    ),
    (errors.IdentityNotLinkedError(), "IDENTITY_NOT_LINKED", C.FAILED_PRECONDITION, 400),
    (errors.AlreadyMergedError("a", "b"), "ALREADY_MERGED", C.FAILED_PRECONDITION, 400),
    (errors.NotMergedError("a"), "NOT_MERGED", C.FAILED_PRECONDITION, 400),
    (
        errors.TargetMergedIntoSourceError("a", "b"),
        "TARGET_MERGED_INTO_SOURCE",
        C.FAILED_PRECONDITION,
        400,
    ),
    (ProjectionLaggingError(5, 3), "PROJECTION_LAGGING", C.UNAVAILABLE, 503),
    (ServiceStoppingError(), "SERVICE_STOPPING", C.UNAVAILABLE, 503),
    (
        InvalidCaseTransitionError("k", CaseStatus.CLOSED, CaseStatus.OPEN),
        "INVALID_CASE_TRANSITION",
        C.FAILED_PRECONDITION,
        400,
    ),
    (CaseClosedError("k"), "CASE_CLOSED", C.FAILED_PRECONDITION, 400),
    (CaseNotEscalatedError("k"), "CASE_NOT_ESCALATED", C.FAILED_PRECONDITION, 400),
    (ConcurrentUpdateError(), "CONCURRENT_UPDATE", C.ABORTED, 409),
    (TooManyWatchersError(64, "caller"), "TOO_MANY_WATCHERS", C.RESOURCE_EXHAUSTED, 429),
    (TooManyReplaysError(4, "service"), "TOO_MANY_REPLAYS", C.RESOURCE_EXHAUSTED, 429),
    (DatabaseUnavailableError(), "DATABASE_UNAVAILABLE", C.UNAVAILABLE, 503),
    (DeadlinePassedError(), "DEADLINE_EXCEEDED", C.DEADLINE_EXCEEDED, 504),
    (EtagMismatchError("c", "e"), "ETAG_MISMATCH", C.ABORTED, 409),
    (
        CallerUnauthenticatedError("ACTOR_REQUIRED", "m"),
        "ACTOR_REQUIRED",
        C.UNAUTHENTICATED,
        401,
    ),
]


def unpacked(status: grpc.Status) -> status_pb2.Status:
    trailers = dict(status.trailing_metadata)
    return status_pb2.Status.FromString(trailers["grpc-status-details-bin"])


def error_info(status: grpc.Status) -> error_details_pb2.ErrorInfo:
    info = error_details_pb2.ErrorInfo()
    assert unpacked(status).details[0].Unpack(info)
    return info


@pytest.mark.parametrize(
    ("error", "reason", "code", "http"), EXPECTED, ids=[type(row[0]).__name__ for row in EXPECTED]
)
def test_each_error_has_its_reason_code_and_http_status(
    error: CrmError, reason: str, code: grpc.StatusCode, http: int
) -> None:
    status = to_grpc_status(error, "req-1")
    assert status.code == code
    assert HTTP_STATUS[status.code] == http
    assert unpacked(status).code == code.value[0]
    info = error_info(status)
    assert (info.reason, info.domain) == (reason, "crm.customer-history")
    assert ("x-request-id", "req-1") in status.trailing_metadata


def all_error_types() -> set[type[CrmError]]:
    for module in pkgutil.walk_packages(services.crm.__path__, "services.crm."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    found: set[type[CrmError]] = set()
    pending = [CrmError]
    while pending:
        for subclass in pending.pop().__subclasses__():
            if subclass.__module__.startswith("services.crm"):
                found.add(subclass)
            pending.append(subclass)
    return found


def test_every_error_the_service_can_raise_is_pinned_above() -> None:
    pinned = {type(error) for error, *_ in EXPECTED}
    missing = all_error_types() - pinned
    assert not missing, f"add a row with the README's status for {sorted(map(str, missing))}"


def test_an_error_carries_its_metadata_and_message() -> None:
    status = to_grpc_status(errors.AlreadyMergedError("a", "b"), "req-2")
    info = error_info(status)
    assert dict(info.metadata) == {"customer": "customers/a", "merged_into": "customers/b"}
    assert unpacked(status).message == "customer a was merged into customer b"
    assert status.details == "customer a was merged into customer b"


def test_bad_input_lists_every_field_violation_in_order() -> None:
    error = InvalidInputError(
        [
            FieldViolation("identity.email", "INVALID_EMAIL", "not an address"),
            FieldViolation("interaction.channel", "CHANNEL_REQUIRED", "must be specified"),
            FieldViolation("interaction.tags[0]", "INVALID_TAG", "must be 1-64 of [a-z0-9_:-]"),
        ]
    )
    details = unpacked(to_grpc_status(error, "req-3")).details
    bad = error_details_pb2.BadRequest()
    assert details[1].Unpack(bad)
    assert [(v.field, v.reason, v.description) for v in bad.field_violations] == [
        ("identity.email", "INVALID_EMAIL", "not an address"),
        ("interaction.channel", "CHANNEL_REQUIRED", "must be specified"),
        ("interaction.tags[0]", "INVALID_TAG", "must be 1-64 of [a-z0-9_:-]"),
    ]
    assert error_info(to_grpc_status(error, "req-3")).reason == "INVALID_EMAIL"


def test_errors_other_than_bad_input_carry_no_field_violations() -> None:
    details = unpacked(to_grpc_status(errors.NotMergedError("a"), "req-4")).details
    assert len(details) == 1
