"""Per-user limits on work in flight in this web process (uploads, connection tests), and the
small thread pool connection tests run on, apart from the one everything else uses."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class UserSlots:
    """At most `limit` of one kind of work at once for each user. The web app runs on one
    event loop, so taking and giving back a slot need no lock."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._busy: Counter[int] = Counter()

    def acquire(self, user_id: int) -> bool:
        if self._busy[user_id] >= self.limit:
            return False
        self._busy[user_id] += 1
        return True

    def release(self, user_id: int) -> None:
        self._busy[user_id] -= 1
        if self._busy[user_id] <= 0:
            del self._busy[user_id]

    def busy(self, user_id: int) -> int:
        return self._busy[user_id]

    @contextlib.contextmanager
    def hold(self, user_id: int, refuse: Callable[[], Exception]) -> Iterator[None]:
        """Hold a slot for the block; raise `refuse()` when the user has none free."""
        if not self.acquire(user_id):
            raise refuse()
        try:
            yield
        finally:
            self.release(user_id)


class BlockingRunner:
    """Runs blocking calls for users on a bounded pool of its own, at most `per_user` at
    once for each user. A slot is given back when the call ends, not when its request
    gives up waiting, so dropped requests cannot pile up threads."""

    def __init__(self, *, workers: int, per_user: int, name: str) -> None:
        self.slots = UserSlots(per_user)
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)

    async def run(self, user_id: int, fn: Callable[[], T], refuse: Callable[[], Exception]) -> T:
        if not self.slots.acquire(user_id):
            raise refuse()
        loop = asyncio.get_running_loop()
        try:
            future = self._executor.submit(fn)
        except BaseException:
            self.slots.release(user_id)
            raise

        def give_back(_: object) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed: nothing to give back to
                loop.call_soon_threadsafe(self.slots.release, user_id)

        future.add_done_callback(give_back)
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
