"""`crm import FILE`: sends a JSON Lines or CSV file to ImportInteractions in batches.

JSON Lines: one RecordInteractionRequest per line in protobuf JSON, e.g.
{"identity": {"email": "ada@example.com"}, "interaction": {"channel": "CHANNEL_EMAIL",
 "direction": "DIRECTION_INBOUND", "occurredTime": "2026-01-02T10:00:00Z",
 "externalId": "ticket-17", "summary": "Where is my order?"}}

CSV: a header row naming any of email, phone, customer, channel, direction,
occurred_time, external_id, summary, body; channel and direction as in the enums
without their prefix (EMAIL, INBOUND).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from crm.v1 import customer_history_service_pb2 as pb
from crm.v1 import customer_history_service_pb2_grpc
from google.protobuf import json_format
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

BATCH = 1_000


@dataclass
class ImportSummary:
    imported: int = 0
    already_imported: int = 0
    failed: list[str] = field(default_factory=list)


def read_records(path: Path) -> Iterator[tuple[int, pb.RecordInteractionRequest | str]]:
    """(line number, request) per record, or (line number, why it cannot be read)."""
    with path.open(newline="", encoding="utf-8") as source:
        if path.suffix.lower() == ".csv":
            for number, row in enumerate(csv.DictReader(source), start=2):
                yield number, _from_csv(row)
            return
        for number, line in enumerate(source, start=1):
            if line.strip():
                yield number, _from_json(line)


def _from_json(line: str) -> pb.RecordInteractionRequest | str:
    try:
        return json_format.Parse(line, pb.RecordInteractionRequest())
    except json_format.ParseError as error:
        return f"not a record: {error}"


def _from_csv(row: dict[str, str]) -> pb.RecordInteractionRequest | str:
    document: dict[str, object] = {"interaction": {}}
    interaction: dict[str, object] = {}
    for column, value in row.items():
        value = (value or "").strip()
        if not value or column is None:
            continue
        if column in ("email", "phone"):
            document["identity"] = {column: value}
        elif column == "customer":
            document["customer"] = value
        elif column == "channel":
            interaction["channel"] = f"CHANNEL_{value.upper()}"
        elif column == "direction":
            interaction["direction"] = f"DIRECTION_{value.upper()}"
        elif column in ("occurred_time", "external_id", "summary", "body"):
            interaction[column] = value
        else:
            return f"unknown column {column!r}"
    document["interaction"] = interaction
    return _from_json(json.dumps(document))


def import_file(
    path: Path, address: str, actor: str, caller_secret: str = "", show_progress: bool = True
) -> ImportSummary:
    """Streams the file in batches, so memory stays flat however long it is."""
    summary = ImportSummary()
    metadata = [("x-crm-actor", actor)]
    if caller_secret:
        metadata.append(("x-crm-caller-secret", caller_secret))
    columns = (
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    progress = Progress(*columns, console=Console(stderr=True), disable=not show_progress)
    with grpc.insecure_channel(address) as channel, progress:
        stub = customer_history_service_pb2_grpc.CustomerHistoryServiceStub(channel)
        task = progress.add_task("import", total=_count_records(path))
        for batch in _batches(path):
            _send(stub, batch, tuple(metadata), summary)
            progress.advance(task, len(batch))
    return summary


def _batches(path: Path) -> Iterator[list[tuple[int, pb.RecordInteractionRequest | str]]]:
    batch: list[tuple[int, pb.RecordInteractionRequest | str]] = []
    for record in read_records(path):
        batch.append(record)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _count_records(path: Path) -> int:
    with path.open(encoding="utf-8") as source:
        lines = sum(1 for line in source if line.strip())
    return lines - 1 if path.suffix.lower() == ".csv" else lines


def _send(
    stub: customer_history_service_pb2_grpc.CustomerHistoryServiceStub,
    batch: list[tuple[int, pb.RecordInteractionRequest | str]],
    metadata: tuple[tuple[str, str], ...],
    summary: ImportSummary,
) -> None:
    readable = [(line, record) for line, record in batch if not isinstance(record, str)]
    summary.failed += [
        f"line {line}: {record}" for line, record in batch if isinstance(record, str)
    ]
    if not readable:
        return
    response = stub.ImportInteractions(
        pb.ImportInteractionsRequest(interactions=[record for _, record in readable]),
        metadata=metadata,
        timeout=120,
    )
    summary.imported += response.imported_count
    summary.already_imported += response.already_imported_count
    for failure in response.failures:
        fields = ", ".join(v.field for v in failure.field_violations)
        where = f" ({fields})" if fields else ""
        summary.failed.append(
            f"line {readable[failure.index][0]}: {failure.reason}{where}: {failure.message}"
        )
