"""TokenBucket pacing with a FrozenClock (no server needed; lives beside the Gmail tests)."""

from __future__ import annotations

from fluffymail.clock import FrozenClock
from fluffymail.integrations.mail.gmail import TokenBucket


class Waits:
    def __init__(self, clock: FrozenClock) -> None:
        self.clock = clock
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.clock.advance(seconds)


async def test_bucket__allows_the_burst_then_paces_to_the_rate() -> None:
    clock = FrozenClock()
    waits = Waits(clock)
    bucket = TokenBucket(rate=10, capacity=20, clock=clock, sleep=waits)

    await bucket.acquire(20)
    await bucket.acquire(5)
    await bucket.acquire(50)

    assert waits.delays == [0.5, 5.0]
    assert clock.mono == 5.5  # 75 units = 20 burst + 10/s * 5.5 s


async def test_bucket__refills_while_idle_up_to_capacity() -> None:
    clock = FrozenClock()
    waits = Waits(clock)
    bucket = TokenBucket(rate=10, capacity=20, clock=clock, sleep=waits)
    await bucket.acquire(20)

    clock.advance(60)
    await bucket.acquire(20)
    await bucket.acquire(1)

    assert waits.delays == [0.1]
