"""Random and spoiled requests to every RPC over gRPC never break the CRM: no INTERNAL or
UNKNOWN, an ErrorInfo reason on every error, and only accepted writes reach the log. A
fixed seed: the same cases every run."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest

from tests.e2e.fuzz.calls import CALLER_SECRET, Caller, fresh_id, seed_world
from tests.e2e.fuzz.ledger import Ledger, assert_log_holds_only_accepted_writes, judge_grpc
from tests.e2e.fuzz.messages import Mutator, set_string, string_fields
from tests.e2e.fuzz.seeds import SERVICE, World, seed_request
from tests.e2e.fuzz.values import (
    BAD_TOKENS,
    CONTROL_TEXT,
    RAW_BODIES,
    short,
)
from tests.e2e.server_process import ServerProcess

SEED = 20_261_002
GRPC_CASES_PER_RPC = 8
METHODS = list(SERVICE.methods)


@pytest.fixture
def crm(database_url: str, start_server: Callable[..., ServerProcess]) -> ServerProcess:
    return start_server(database_url, CRM_CALLER_SECRET=CALLER_SECRET)


def spoiled_grpc_cases(world: World) -> Iterator[tuple[Any, str, bytes, list[str]]]:
    """(method, what was done, payload, metadata changes) for every RPC, in a fixed order."""
    mutator = Mutator(world.rng)
    for method in METHODS:
        for number in range(GRPC_CASES_PER_RPC):
            request = seed_request(method, world)
            if number == GRPC_CASES_PER_RPC - 1:
                raw = RAW_BODIES[(METHODS.index(method)) % len(RAW_BODIES)]
                yield method, f"raw bytes {short(raw, 40)}", raw, []
                continue
            changes = [] if number == 0 else mutator.mutate(request, world.rng.choice([1, 1, 2]))
            payload = request.SerializeToString()
            if len(payload) > 3_000_000:  # Past gRPC's own 4 MiB, which it refuses itself.
                changes, payload = [], seed_request(method, world).SerializeToString()
            metadata_changes = []
            if number > 0 and world.rng.random() < 0.12:
                metadata_changes.append(
                    world.rng.choice(
                        [
                            "no actor",
                            "actor=nobody",
                            "actor=agent:",
                            "actor=agent:" + "a" * 300,
                            "actor=service:billing",
                            "actor=agent:Jane Doe",
                            "no caller secret",
                            "x-request-id=" + "r" * 200,
                            "x-request-id=has space",
                        ]
                    )
                )
            yield method, "; ".join(changes) or "as seeded", payload, metadata_changes


def swept_cases(world: World) -> Iterator[tuple[Any, str, bytes, list[str]]]:
    """Each string field of each RPC's seed in turn holds a control character; each page
    token field holds each junk token."""
    for method in METHODS:
        for path in string_fields(seed_request(method, world)):
            texts = [CONTROL_TEXT, *(BAD_TOKENS if path.endswith("page_token") else [])]
            for text in texts:
                request = seed_request(method, world)
                set_string(request, path, text, filler=f"fuzz{world.new_id()[:8]}")
                yield method, f"{path}={short(text, 40)}", request.SerializeToString(), []


def _apply(metadata: list[tuple[str, str]], changes: list[str]) -> list[tuple[str, str]]:
    headers = dict(metadata)
    for change in changes:
        if change == "no actor":
            del headers["x-crm-actor"]
        elif change == "no caller secret":
            del headers["x-crm-caller-secret"]
        else:
            key, _, value = change.partition("=")
            headers["x-crm-" + key if key == "actor" else key] = value
    return list(headers.items())


def test_spoiled_grpc_requests_never_fail_internally_nor_store_refused_writes(
    crm: ServerProcess,
) -> None:
    caller = Caller(crm)
    rng = random.Random(SEED)
    ledger = Ledger()
    world = seed_world(caller, rng)
    ledger.accepted.update(event.correlation_id for event in caller.replay())
    retries: list[tuple[Any, bytes]] = []
    cases = [*swept_cases(world), *spoiled_grpc_cases(world)]
    for method, case, payload, metadata_changes in cases:
        if retries and rng.random() < 0.08:
            retried_method, retried = rng.choice(retries)
            answer = caller.call(retried_method, retried, caller.metadata(fresh_id()))
            judge_grpc(ledger, retried_method.name, "a retry of an accepted write", answer)
        metadata = _apply(caller.metadata(fresh_id()), metadata_changes)
        answer = caller.call(method, payload, metadata)
        judge_grpc(ledger, method.name, "; ".join([case, *metadata_changes]), answer)
        if answer.code == grpc.StatusCode.OK and "request_id" in method.input_type.fields_by_name:
            retries.append((method, payload))
    assert_log_holds_only_accepted_writes(caller, ledger, world)
    if ledger.findings:
        pytest.fail(ledger.report(crm.lines), pytrace=False)
