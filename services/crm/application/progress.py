"""ReadModelProgress: one poller of a read model's position that every watcher waits on."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

POLL_SECONDS = 0.01

logger = logging.getLogger(__name__)


class ReadModelProgress:
    """Watchers wait here instead of each polling the database: one thread reads the
    position and wakes them all when it moves, or when the service stops."""

    def __init__(self, read_position: Callable[[], int], poll_seconds: float = POLL_SECONDS):
        self._read_position = read_position
        self._poll_seconds = poll_seconds
        self._changed = threading.Condition()
        self._position = 0
        self._stopped = False
        self._poller: threading.Thread | None = None

    @property
    def stopped(self) -> bool:
        return self._stopped

    @property
    def position(self) -> int:
        with self._changed:
            self._start_polling()
            return self._position

    def wait_beyond(self, position: int, timeout: float) -> int:
        """Block until the read model is past position, the timeout passes or the
        service stops; return the position reached."""
        with self._changed:
            self._start_polling()
            self._changed.wait_for(
                lambda: self._position > position or self._stopped, timeout=timeout
            )
            return self._position

    def stop(self) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify_all()

    def _start_polling(self) -> None:
        if self._poller is None and not self._stopped:
            self._position = self._read_position()
            self._poller = threading.Thread(
                target=self._poll, name="read-model-progress", daemon=True
            )
            self._poller.start()

    def _poll(self) -> None:
        failing = False
        while not self._stopped:
            time.sleep(self._poll_seconds)
            try:
                position = self._read_position()
            except Exception as error:
                # Once per outage, not once a poll: health already says the database is gone.
                if not failing:
                    logger.warning(
                        "cannot read the read model's position; trying again",
                        extra={"fields": {"error": type(error).__name__}},
                    )
                failing = True
                continue
            if failing:
                logger.info("read the read model's position again")
                failing = False
            if position != self._position:
                with self._changed:
                    self._position = position
                    self._changed.notify_all()
