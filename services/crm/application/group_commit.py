"""GroupCommit: concurrent saves share one transaction, each acknowledged after it commits.

The event store serialises writers on a table lock and pays one disk flush per
transaction, so one save per call tops out far below the machine. Here one writer
thread takes every save waiting, inserts their stored events together, and hands
each caller the positions of its own. Callers encode their events before queueing,
so the writer does nothing but write. If the joint insert fails (a conflict, or one
caller's bad events), each save is tried on its own, so a failure fails only the
call it belongs to.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

from eventsourcing.persistence import StoredEvent

from services.crm.application.results import ServiceStoppingError

Insert = Callable[[Sequence[StoredEvent]], Sequence[int] | None]
Waiting = tuple[list[StoredEvent], Future[list[int]]]
MAX_BATCH = 500
_STOP = object()


class GroupCommit:
    def __init__(self, insert: Insert, max_batch: int = MAX_BATCH) -> None:
        self._insert = insert
        self._max_batch = max_batch
        self._waiting: queue.SimpleQueue[Any] = queue.SimpleQueue()
        # Taken to queue a save and to stop, so nothing is queued after the writer left.
        self._open = threading.Lock()
        self._stopped = False
        self._writer = threading.Thread(target=self._write, name="group-commit", daemon=True)
        self._writer.start()

    def insert(self, stored_events: list[StoredEvent]) -> list[int]:
        """Blocks until the events are committed and returns their positions in the
        log; raises what inserting them raised."""
        done: Future[list[int]] = Future()
        with self._open:
            if self._stopped:
                raise ServiceStoppingError
            self._waiting.put((stored_events, done))
        return done.result()

    def stop(self) -> None:
        """Commits what is waiting, then ends the writer thread."""
        with self._open:
            if self._stopped:
                return
            self._stopped = True
            self._waiting.put(_STOP)
        self._writer.join()

    def _write(self) -> None:
        batch: list[Waiting] = []
        try:
            while True:
                batch, stopping = self._next_batch()
                if batch:
                    self._commit_batch(batch)
                if stopping:
                    return
        finally:
            # Whatever ended the loop, no caller may be left waiting on it.
            self._fail_waiting(batch)

    def _fail_waiting(self, batch: list[Waiting]) -> None:
        with self._open:
            self._stopped = True
        unanswered = [done for _, done in batch]
        while True:
            try:
                item = self._waiting.get_nowait()
            except queue.Empty:
                break
            if item is not _STOP:
                unanswered.append(item[1])
        for done in unanswered:
            if not done.done():
                done.set_exception(ServiceStoppingError())

    def _next_batch(self) -> tuple[list[Waiting], bool]:
        first = self._waiting.get()
        if first is _STOP:
            return [], True
        batch = [first]
        while len(batch) < self._max_batch:
            try:
                item = self._waiting.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                return batch, True
            batch.append(item)
        return batch, False

    def _commit_batch(self, batch: list[Waiting]) -> None:
        if len(batch) == 1:
            self._commit_alone(*batch[0])
            return
        joint = [event for events, _ in batch for event in events]
        try:
            inserted = self._insert(joint)
        except Exception:
            # A conflict, or bad events from one caller: each save alone gets its own fate.
            for events, done in batch:
                self._commit_alone(events, done)
            return
        try:
            positions = _checked(inserted, joint)
        except RuntimeError as error:
            # Committed, but not told where: retrying would report stored writes as clashes.
            for _, done in batch:
                done.set_exception(error)
            return
        start = 0
        for events, done in batch:
            done.set_result(positions[start : start + len(events)])
            start += len(events)

    def _commit_alone(self, events: list[StoredEvent], done: Future[list[int]]) -> None:
        try:
            done.set_result(_checked(self._insert(events), events))
        except Exception as error:
            done.set_exception(error)


def _checked(positions: Sequence[int] | None, events: list[StoredEvent]) -> list[int]:
    given = list(positions or ())
    if len(given) != len(events):
        raise RuntimeError(f"{len(events)} events stored, {len(given)} positions given")
    return given
