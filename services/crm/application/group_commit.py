"""GroupCommit: concurrent saves share one transaction, each acknowledged after it commits.

The event store serialises writers on a table lock and pays one disk flush per
transaction, so one save per call tops out far below the machine. Here one writer
thread takes every save waiting, commits them together, and hands each caller its
own recordings. If the joint commit fails (a conflict, or one caller's bad events),
each save is tried on its own, so a failure fails only the call it belongs to.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any
from uuid import UUID

from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import Recording

from services.crm.application.results import ServiceStoppingError

Commit = Callable[[ProcessingEvent[UUID]], list[Recording[UUID]]]
MAX_BATCH = 500
_STOP = object()


class GroupCommit:
    def __init__(self, commit: Commit, max_batch: int = MAX_BATCH) -> None:
        self._commit = commit
        self._max_batch = max_batch
        self._waiting: queue.SimpleQueue[Any] = queue.SimpleQueue()
        # Taken to queue a save and to stop, so nothing is queued after the writer left.
        self._open = threading.Lock()
        self._stopped = False
        self._writer = threading.Thread(target=self._write, name="group-commit", daemon=True)
        self._writer.start()

    def save(self, processing: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        """Blocks until the events are committed; raises what committing them raised."""
        done: Future[list[Recording[UUID]]] = Future()
        with self._open:
            if self._stopped:
                raise ServiceStoppingError
            self._waiting.put((processing, done))
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
        batch: list[tuple[ProcessingEvent[UUID], Future[Any]]] = []
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

    def _fail_waiting(self, batch: list[tuple[ProcessingEvent[UUID], Future[Any]]]) -> None:
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

    def _next_batch(self) -> tuple[list[tuple[ProcessingEvent[UUID], Future[Any]]], bool]:
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

    def _commit_batch(self, batch: list[tuple[ProcessingEvent[UUID], Future[Any]]]) -> None:
        if len(batch) == 1:
            self._commit_alone(*batch[0])
            return
        joint: ProcessingEvent[UUID] = ProcessingEvent()
        for processing, _ in batch:
            joint.events.extend(processing.events)
            joint.aggregates.update(processing.aggregates)
        try:
            recordings = self._commit(joint)
        except Exception:
            # A conflict, or bad events from one caller: each save alone gets its own fate.
            for processing, done in batch:
                self._commit_alone(processing, done)
            return
        by_event = {id(recording.domain_event): recording for recording in recordings}
        for processing, done in batch:
            done.set_result([by_event[id(event)] for event in processing.events])

    def _commit_alone(self, processing: ProcessingEvent[UUID], done: Future[Any]) -> None:
        try:
            done.set_result(self._commit(processing))
        except Exception as error:
            done.set_exception(error)
