"""GroupCommit: concurrent saves share one transaction, each acknowledged after it commits.

The event store serialises writers on a table lock and pays one disk flush per
transaction, so one save per call tops out far below the machine. Here one writer
thread takes every save waiting, inserts their stored events together, and hands
each caller the positions of its own. Callers encode their events before queueing,
so the writer does nothing but write. If the joint insert fails (a conflict, or one
caller's bad events), each save is tried on its own, so a failure fails only the
call it belongs to. If the database does not answer, every save waiting fails at
once, rather than each waiting its turn to find out.

A save is committed only if its caller still waits: one whose caller stopped waiting
before its transaction began is dropped unwritten, and a transaction whose deadline
(the earliest of its saves') passes before it commits is rolled back; its saves are
then tried alone, each against its own deadline.
"""

from __future__ import annotations

import contextvars
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

from eventsourcing.persistence import StoredEvent

from services.crm.application.bounds import DATABASE_UNAVAILABLE
from services.crm.application.results import (
    DatabaseUnavailableError,
    DeadlinePassedError,
    ServiceStoppingError,
)
from services.crm.storage import CommitTooLateError

# Inserts events in one transaction, committing it only before the deadline, if given.
Insert = Callable[..., Sequence[int] | None]
# A save's events, its caller's answer, its deadline on the clock (None: no deadline),
# and its caller's context, in which its transaction runs, so the statements show in
# the caller's trace (README: Traces).
Waiting = tuple[list[StoredEvent], Future[list[int]], float | None, contextvars.Context]
# Told how many saves each committed transaction held (metrics).
CommitObserver = Callable[[int], None]
MAX_BATCH = 500
_STOP = object()


class GroupCommit:
    def __init__(
        self,
        insert: Insert,
        max_batch: int = MAX_BATCH,
        clock: Callable[[], float] = time.monotonic,
        on_commit: CommitObserver | None = None,
    ) -> None:
        self._insert = insert
        self._on_commit = on_commit
        self._max_batch = max_batch
        self._clock = clock
        self._waiting: queue.SimpleQueue[Any] = queue.SimpleQueue()
        # Taken to queue a save and to stop, so nothing is queued after the writer left.
        self._open = threading.Lock()
        self._stopped = False
        self._writer = threading.Thread(target=self._write, name="group-commit", daemon=True)
        self._writer.start()

    def insert(self, stored_events: list[StoredEvent], deadline: float | None = None) -> list[int]:
        """Blocks until the events are committed and returns their positions in the
        log; raises what inserting them raised. With a deadline (on the clock), gives
        up then, raising DeadlinePassedError, unless the transaction has begun."""
        done: Future[list[int]] = Future()
        with self._open:
            if self._stopped:
                raise ServiceStoppingError
            self._waiting.put((stored_events, done, deadline, contextvars.copy_context()))
        if deadline is None:
            return done.result()
        try:
            return done.result(timeout=max(0.0, deadline - self._clock()))
        except TimeoutError:
            if done.cancel():  # Not begun: the writer will skip it.
                raise DeadlinePassedError from None
            return done.result()  # Its transaction has begun; its outcome is the answer.

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
        unanswered = [done for _, done, _, _ in batch]
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

    def _commit_batch(self, waiting: list[Waiting]) -> None:
        batch = [item for item in waiting if self._still_awaited(item)]
        if len(batch) <= 1:
            self._commit_each(batch)
            return
        joint = [event for events, _, _, _ in batch for event in events]
        deadlines = [deadline for _, _, deadline, _ in batch if deadline is not None]
        try:
            # In the first caller's trace: one transaction has one place in a trace.
            inserted = batch[0][3].run(self._insert, joint, deadline=min(deadlines, default=None))
        except DATABASE_UNAVAILABLE:
            self._fail_unavailable(batch)
            return
        except Exception:
            # A conflict, or bad events from one caller: each save alone gets its own fate.
            self._commit_each(batch)
            return
        try:
            positions = _checked(inserted, joint)
        except RuntimeError as error:
            # Committed, but not told where: retrying would report stored writes as clashes.
            for _, done, _, _ in batch:
                done.set_exception(error)
            return
        start = 0
        for events, done, _, _ in batch:
            done.set_result(positions[start : start + len(events)])
            start += len(events)
        self._committed(len(batch))

    def _still_awaited(self, item: Waiting) -> bool:
        """Marks the save begun, unless its caller gave up or its deadline passed."""
        _, done, deadline, _ = item
        if not done.set_running_or_notify_cancel():
            return False
        if self._passed(deadline):
            done.set_exception(DeadlinePassedError())
            return False
        return True

    def _commit_each(self, batch: list[Waiting]) -> None:
        for index, (events, done, deadline, context) in enumerate(batch):
            if self._passed(deadline):
                done.set_exception(DeadlinePassedError())
                continue
            try:
                inserted = context.run(self._insert, events, deadline=deadline)
                done.set_result(_checked(inserted, events))
                self._committed(1)
            except CommitTooLateError:
                done.set_exception(DeadlinePassedError())
            except DATABASE_UNAVAILABLE:
                self._fail_unavailable(batch[index:])
                return
            except Exception as error:
                done.set_exception(error)

    def _fail_unavailable(self, batch: list[Waiting]) -> None:
        """The database did not answer: these saves fail, and so does every save
        queued behind them, which would otherwise each wait as long to learn the same."""
        for _, done, _, _ in batch:
            done.set_exception(DatabaseUnavailableError())
        stopping = False
        while True:
            try:
                item = self._waiting.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                stopping = True
            elif item[1].set_running_or_notify_cancel():
                item[1].set_exception(DatabaseUnavailableError())
        if stopping:
            self._waiting.put(_STOP)  # Seen next, as nothing is queued after it.

    def _committed(self, saves: int) -> None:
        if self._on_commit is not None:
            self._on_commit(saves)

    def _passed(self, deadline: float | None) -> bool:
        return deadline is not None and self._clock() >= deadline


def _checked(positions: Sequence[int] | None, events: list[StoredEvent]) -> list[int]:
    given = list(positions or ())
    if len(given) != len(events):
        raise RuntimeError(f"{len(events)} events stored, {len(given)} positions given")
    return given
