"""Which errors a projection retries and which park the event that raised them."""

from __future__ import annotations

import json
import sqlite3

import psycopg
import pytest
from eventsourcing.persistence import DataError, IntegrityError, OperationalError

from services.crm.projections.parked_events import error_class, is_transient


def raised_from(error: Exception, cause: BaseException) -> Exception:
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    "error",
    [
        raised_from(OperationalError("x"), psycopg.errors.SerializationFailure("x")),
        raised_from(OperationalError("x"), psycopg.errors.DeadlockDetected("x")),
        raised_from(OperationalError("x"), psycopg.errors.AdminShutdown("x")),
        raised_from(OperationalError("x"), sqlite3.OperationalError("database is locked")),
        psycopg.OperationalError("connection refused"),
        psycopg.errors.UndefinedTable("a read model's table is missing"),
        ConnectionResetError(),
    ],
    ids=lambda error: type(error.__cause__ or error).__name__,
)
def test_database_errors_are_retried(error: Exception) -> None:
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        raised_from(DataError("x"), psycopg.DataError("text fields cannot contain NUL")),
        raised_from(IntegrityError("x"), psycopg.errors.NotNullViolation("x")),
        json.JSONDecodeError("unterminated string", "{", 1),
        KeyError("profile"),
        RuntimeError("merge pointers do not end"),
    ],
    ids=lambda error: type(error.__cause__ or error).__name__,
)
def test_errors_of_the_event_itself_park_it(error: Exception) -> None:
    assert not is_transient(error)


def test_a_parked_event_records_the_error_class_and_its_cause_but_never_the_message() -> None:
    error = raised_from(DataError("Ada Lovelace"), psycopg.DataError("Ada Lovelace"))
    assert error_class(error) == "eventsourcing.persistence.DataError from psycopg.DataError"
