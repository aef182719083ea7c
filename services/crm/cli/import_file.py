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
BATCH_BYTES = 3 * 1024 * 1024
MAX_LISTED_FAILURES = 1_000


@dataclass
class ImportSummary:
    imported: int = 0
    already_imported: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)

    def fail(self, why: str, count: int = 1) -> None:
        """Counts every failure; keeps the first few to show, so memory stays flat."""
        self.failed += count
        if len(self.failures) < MAX_LISTED_FAILURES:
            self.failures.append(why)


def read_records(path: Path) -> Iterator[tuple[int, pb.RecordInteractionRequest | str]]:
    """(line number, request) per record, or (line number, why it cannot be read)."""
    # utf-8-sig: spreadsheet exports often start with a byte-order mark.
    with path.open(newline="", encoding="utf-8-sig") as source:
        if path.suffix.lower() == ".csv":
            reader = csv.DictReader(source)
            for row in reader:
                yield reader.line_num, _from_csv(row)
            return
        for number, line in enumerate(source, start=1):
            if line.strip():
                yield number, _from_json(line)


def _from_json(line: str) -> pb.RecordInteractionRequest | str:
    try:
        return json_format.Parse(line, pb.RecordInteractionRequest())
    except json_format.ParseError as error:
        return f"not a record: {error}"


def _from_csv(row: dict[str | None, str | list[str] | None]) -> pb.RecordInteractionRequest | str:
    document: dict[str, object] = {"interaction": {}}
    interaction: dict[str, object] = {}
    for column, raw in row.items():
        if column is None:
            return "more fields than the header names (an unquoted comma?)"
        value = raw.strip() if isinstance(raw, str) else ""
        if not value:
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
    """At most BATCH records and BATCH_BYTES per call: long bodies would otherwise
    exceed what a gRPC server accepts in one message."""
    batch: list[tuple[int, pb.RecordInteractionRequest | str]] = []
    size = 0
    for line, record in read_records(path):
        record_size = 0 if isinstance(record, str) else record.ByteSize()
        if batch and (len(batch) == BATCH or size + record_size > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append((line, record))
        size += record_size
    if batch:
        yield batch


def _count_records(path: Path) -> int:
    return sum(1 for _ in read_records(path))


def _send(
    stub: customer_history_service_pb2_grpc.CustomerHistoryServiceStub,
    batch: list[tuple[int, pb.RecordInteractionRequest | str]],
    metadata: tuple[tuple[str, str], ...],
    summary: ImportSummary,
) -> None:
    readable = [(line, record) for line, record in batch if not isinstance(record, str)]
    for line, record in batch:
        if isinstance(record, str):
            summary.fail(f"line {line}: {record}")
    if not readable:
        return
    try:
        response = stub.ImportInteractions(
            pb.ImportInteractionsRequest(interactions=[record for _, record in readable]),
            metadata=metadata,
            timeout=120,
        )
    except grpc.RpcError as error:
        # Safe to run the file again: records already imported are not imported twice.
        lines = f"lines {readable[0][0]}-{readable[-1][0]}"
        summary.fail(f"{lines}: {error.code().name}: {error.details()}", len(readable))
        return
    summary.imported += response.imported_count
    summary.already_imported += response.already_imported_count
    for failure in response.failures:
        fields = ", ".join(v.field for v in failure.field_violations)
        where = f" ({fields})" if fields else ""
        summary.fail(
            f"line {readable[failure.index][0]}: {failure.reason}{where}: {failure.message}"
        )
