import threading
import time

import pytest

from livefake.pipeline import DropPolicy, Ring, RingClosed


def test_drop_oldest_never_exceeds_capacity_and_counts_every_drop() -> None:
    ring: Ring[int] = Ring(3, DropPolicy.DROP_OLDEST)
    for value in range(100):
        ring.put(value)
        assert len(ring) <= 3
    assert ring.dropped == 97
    assert [ring.get(0), ring.get(0), ring.get(0)] == [97, 98, 99]


def test_drop_oldest_keeps_order_of_what_survives() -> None:
    ring: Ring[int] = Ring(2, DropPolicy.DROP_OLDEST)
    taken = []
    for value in range(50):
        ring.put(value)
        if value % 3 == 0:
            taken.append(ring.get(0))
    assert taken == sorted(taken)
    assert ring.dropped + len(taken) + len(ring) == 50


def start_consumer(ring: Ring[int]) -> tuple[threading.Thread, list[int]]:
    """A thread taking every item of ``ring`` until it is closed; what it took, in order."""
    received: list[int] = []

    def consume() -> None:
        while True:
            try:
                item = ring.get(timeout=1)
            except RingClosed:
                return
            if item is not None:
                received.append(item)

    consumer = threading.Thread(target=consume)
    consumer.start()
    return consumer, received


def test_an_item_put_for_a_waiting_consumer_is_handed_over_not_dropped() -> None:
    """Frames 0, 1, 2 come out of a slow stage back to back while the next one waits in get():
    0 is that consumer's, 1 waits (capacity 1), and 2 replaces 1 (the newest wins)."""
    ring: Ring[int] = Ring(1, DropPolicy.DROP_OLDEST)
    consumer, received = start_consumer(ring)
    while not ring._consumer_waiting:  # inside get(), on the condition
        time.sleep(0.001)
    for value in range(3):  # faster than the consumer's thread can wake (it needs the GIL)
        ring.put(value)
    ring.close()
    consumer.join(2)
    assert received[0] == 0 and received[-1] == 2
    assert ring.dropped + len(received) == 3 and ring.dropped <= 1


def test_block_waits_for_room_and_times_out() -> None:
    ring: Ring[int] = Ring(1, DropPolicy.BLOCK)
    assert ring.put(1, timeout=0.01)
    assert not ring.put(2, timeout=0.05)
    assert ring.get(0) == 1
    assert ring.put(2, timeout=0.01)
    assert ring.dropped == 0


def test_block_loses_nothing_across_threads() -> None:
    ring: Ring[int] = Ring(4, DropPolicy.BLOCK)
    consumer, received = start_consumer(ring)
    for value in range(10_000):
        assert ring.put(value, timeout=5)
    ring.close()
    consumer.join(5)
    assert received == list(range(10_000))


def test_close_wakes_a_blocked_getter_and_refuses_puts() -> None:
    ring: Ring[int] = Ring(1, DropPolicy.BLOCK)
    errors = []

    def wait() -> None:
        try:
            ring.get(timeout=10)
        except RingClosed as error:
            errors.append(error)

    waiter = threading.Thread(target=wait)
    waiter.start()
    ring.close()
    waiter.join(1)
    assert not waiter.is_alive() and errors
    with pytest.raises(RingClosed):
        ring.put(1)


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="capacity"):
        Ring(0, DropPolicy.BLOCK)
