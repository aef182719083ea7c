"""Use cases for notes: what agents write down about a customer."""

from __future__ import annotations

from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError

from services.crm.application.base import CustomerHistoryBase, commit_position, write_attempts
from services.crm.application.results import ConcurrentUpdateError, NoteResult
from services.crm.domain.cause import Cause
from services.crm.domain.errors import RequestIdReusedError
from services.crm.domain.note import Note, NoteRecord, check_note_text
from services.crm.transcoder import fingerprint


class NoteUseCases(CustomerHistoryBase):
    def add_note(self, customer_id: UUID, text: str, cause: Cause, request_id: str) -> NoteResult:
        check_note_text(text)
        key = f"request:{cause.actor}:{request_id}" if request_id else f"random:{uuid4()}"
        digest = fingerprint(customer_id, text)
        for _ in write_attempts():
            earlier = self._find(Note, Note.create_id(key))
            if earlier is not None:
                if earlier.fingerprint != digest:
                    raise RequestIdReusedError
                return NoteResult(note_record(earlier), self._log_end())
            root = self._root(self.get_customer(customer_id))
            note = Note(
                idempotency_key=key,
                customer_id=root.id,
                text=text,
                fingerprint=digest,
                cause=cause,
            )
            try:
                position = commit_position(self.save(note))
            except IntegrityError:
                continue  # A concurrent retry of the same request won; return its note.
            return NoteResult(note_record(note), position)
        raise ConcurrentUpdateError


def note_record(note: Note) -> NoteRecord:
    return NoteRecord(note.id, note.customer_id, note.text, note.author, note.created_on)
