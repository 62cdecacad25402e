"""Bounded ring buffers that join the stages, with a named drop policy."""

from __future__ import annotations

import threading
import time
from collections import deque
from enum import Enum
from typing import Generic, TypeVar

T = TypeVar("T")


class DropPolicy(Enum):
    """What ``Ring.put`` does when the ring is full."""

    DROP_OLDEST = "drop_oldest"  # live: the newest frame wins, the oldest waiting one is dropped
    BLOCK = "block"  # offline: wait for room, lose nothing


class RingClosed(Exception):
    """Raised by ``get`` once the ring is closed and drained, and by ``put`` once closed."""


class Ring(Generic[T]):
    """A bounded FIFO shared by one producer and one consumer thread.

    Every blocking call takes a timeout, so a thread can re-check its stop flag.
    ``dropped`` counts every item discarded under ``DROP_OLDEST``.

    An item put while the consumer waits in ``get`` is handed to it: it is taken, not waiting,
    even before the consumer's thread has woken up to pop it. So ``capacity`` items may wait
    behind it, and two frames that come out of a slow stage back to back are not one dropped
    while the next stage, idle, is still being scheduled.
    """

    def __init__(self, capacity: int, policy: DropPolicy, name: str = "ring") -> None:
        if capacity < 1:
            raise ValueError(f"ring '{name}': capacity must be at least 1, got {capacity}")
        self.name = name
        self.capacity = capacity
        self.policy = policy
        self.dropped = 0
        self.put_count = 0
        self._items: deque[T] = deque()
        self._consumer_waiting = False
        self._handed = False  # the first item was put for the waiting consumer: taken, not waiting
        self._closed = False
        self._lock = threading.Lock()
        self._not_empty = threading.Condition(self._lock)
        self._not_full = threading.Condition(self._lock)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def _waiting(self) -> int:
        """Items waiting for the consumer (not counting one already handed to it)."""
        return len(self._items) - self._handed

    @property
    def closed(self) -> bool:
        return self._closed

    def put(self, item: T, timeout: float | None = None) -> bool:
        """Add ``item``. Returns False only when ``BLOCK`` timed out waiting for room."""
        with self._lock:
            if self._closed:
                raise RingClosed(self.name)
            if self._consumer_waiting and not self._items:
                self._handed = True
            elif self._waiting() >= self.capacity:
                if self.policy is DropPolicy.DROP_OLDEST:
                    del self._items[int(self._handed)]  # the oldest waiting one, never the handed one
                    self.dropped += 1
                elif not self._wait_for_room(timeout):
                    return False
            self._items.append(item)
            self.put_count += 1
            self._not_empty.notify()
            return True

    def _wait_for_room(self, timeout: float | None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._waiting() >= self.capacity:
            if self._closed:
                raise RingClosed(self.name)
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            self._not_full.wait(remaining)
        return True

    def get(self, timeout: float | None = None) -> T | None:
        """Take the oldest item; None on timeout. Raises ``RingClosed`` once closed and empty."""
        with self._lock:
            deadline = None if timeout is None else time.monotonic() + timeout
            while not self._items:
                if self._closed:
                    raise RingClosed(self.name)
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._consumer_waiting = True
                try:
                    self._not_empty.wait(remaining)
                finally:
                    self._consumer_waiting = False
            item = self._items.popleft()
            self._handed = False
            self._not_full.notify()
            return item

    def close(self) -> None:
        """No more puts; waiting threads wake. Items already queued can still be taken."""
        with self._lock:
            self._closed = True
            self._not_empty.notify_all()
            self._not_full.notify_all()
