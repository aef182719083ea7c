"""What the fuzz tests saw: accepted and refused calls, failures by kind, and the log's check."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
from crm.v1 import customer_history_service_pb2 as pb

from tests.e2e.fuzz.calls import DEADLINE_SECONDS, Answer, Caller
from tests.e2e.fuzz.processes import exception_lines, exceptions_by_request
from tests.e2e.fuzz.seeds import World
from tests.e2e.fuzz.values import short

REASON = re.compile(r"^[A-Z][A-Z0-9_]*$")


@dataclass
class Ledger:
    """Which calls were accepted and refused, and what went wrong, grouped by kind."""

    accepted: set[str] = field(default_factory=set)
    refused: set[str] = field(default_factory=set)
    findings: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    answers: Counter[str] = field(default_factory=Counter)
    # What each call sent, by request id, to say which request stored what.
    sent: dict[str, str] = field(default_factory=dict)

    def note(self, target: str, kind: str, example: str) -> None:
        self.findings.setdefault((target, kind), []).append(example)

    def report(self, crm_output: list[str], *processes: list[str]) -> str:
        """Each kind of failure with up to three examples; a call that raised in the CRM
        with the last line of its traceback."""
        raised = exceptions_by_request(crm_output)
        cases = sum(self.answers.values())
        lines = [f"{len(self.findings)} kinds of failure in {cases} cases {dict(self.answers)}:"]
        for (target, kind), examples in sorted(self.findings.items()):
            lines.append(f"- {target}: {kind} ({len(examples)}x), e.g.")
            for example in examples[:3]:
                request_id = example.rpartition("[")[2].rstrip("]")
                cause = f"\n      raised {raised[request_id]}" if request_id in raised else ""
                lines.append(f"    {example}{cause}")
        processes = (crm_output, *processes)
        for output in processes:
            lines.extend(f"  output: {line}" for line in exception_lines(output))
        return "\n".join(lines)


def judge_grpc(ledger: Ledger, target: str, case: str, answer: Answer) -> None:
    ledger.answers[answer.code.name] += 1
    ledger.sent[answer.request_id] = f"{target} {case}"
    if answer.code == grpc.StatusCode.OK:
        ledger.accepted.add(answer.request_id)
        return
    ledger.refused.add(answer.request_id)
    observed = f"{case} -> {answer.code.name} {short(answer.message, 100)} [{answer.request_id}]"
    if answer.code in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN):
        ledger.note(target, answer.code.name, observed)
    elif answer.code == grpc.StatusCode.DEADLINE_EXCEEDED:
        ledger.note(target, f"no answer in {DEADLINE_SECONDS} s", observed)
    elif not REASON.match(answer.reason):
        ledger.note(target, f"{answer.code.name} without an ErrorInfo reason", observed)


# What no stored text may hold: C0 controls but tab and line breaks, DEL, C1 controls.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _texts(document: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(document, str):
        yield path, document
    elif isinstance(document, dict):
        for key, value in document.items():
            yield from _texts(value, f"{path}.{key}" if path else str(key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from _texts(value, f"{path}[{index}]")


def assert_log_holds_only_accepted_writes(caller: Caller, ledger: Ledger, world: World) -> None:
    """Every stored event carries the request id of a call that was answered OK, and the
    read models still take in the whole log."""
    events = caller.replay()
    for event in events:
        where = f"event {event.position} {event.topic}"
        if event.correlation_id in ledger.refused:
            ledger.note(
                "event log", "stored by a refused call", f"{where} [{event.correlation_id}]"
            )
        elif event.correlation_id not in ledger.accepted:
            ledger.note(
                "event log",
                "stored under a request id no accepted call was given",
                f"{where} [{short(event.correlation_id, 60)}]",
            )
        for path, text in _texts(json.loads(event.state_json)):
            if CONTROL.search(text):
                ledger.note(
                    "event log",
                    f"stored text with a control character in {event.topic} {path}",
                    f"{short(text, 40)} from {ledger.sent.get(event.correlation_id, '?')}",
                )
    if not events:
        return
    head = events[-1].position
    for name, request in [
        ("SearchCustomers", pb.SearchCustomersRequest(name="ada", min_position=head)),
        ("GetTimeline", pb.GetTimelineRequest(customer=world.customers[0], min_position=head)),
    ]:
        answer = caller.unary(name, request, timeout=40)
        if answer.code != grpc.StatusCode.OK:
            ledger.note(
                name,
                "read model no longer catches up with the log",
                f"min_position={head} -> {answer.code.name} {answer.reason}",
            )
