"""The demo's progress while the sample mailbox is processed: it ends when the workers are
told to stop (Ctrl-C), and a run that takes too long is one clear error, not a traceback."""

from __future__ import annotations

import asyncio
import io
import time

import pytest
from rich.console import Console

from fluffymail.demo import product
from fluffymail.errors import FluffyMailError

BUSY = product.Progress(messages=466, contacts=3, scored=0, pending={"enrich-contact": 12})


@pytest.fixture
def never_drained(monkeypatch: pytest.MonkeyPatch) -> None:
    async def progress(*_: object) -> product.Progress:
        return BUSY

    monkeypatch.setattr(product, "progress", progress)


async def test_watch__ends_at_once_when_the_workers_are_told_to_stop(never_drained: None) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.3, stop.set)  # what the runner's SIGINT handler does
    started = time.monotonic()

    with pytest.raises(product.Interrupted):
        await product.watch(None, None, 1, {"enrich-contact"}, _quiet(), within=60, stop=stop)  # type: ignore[arg-type]

    assert time.monotonic() - started < 5  # not the 60 s it would wait for jobs no one runs


async def test_watch__too_long_is_a_clear_error_naming_the_jobs_left(never_drained: None) -> None:
    with pytest.raises(FluffyMailError) as raised:
        await product.watch(
            None,  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]
            1,
            {"enrich-contact"},
            _quiet(),
            within=0.2,
            stop=asyncio.Event(),
        )

    message = str(raised.value)
    assert "did not finish within 0 s" in message and "enrich-contact 12" in message
    assert "fluffymail jobs stats" in message


def _quiet() -> Console:
    return Console(file=io.StringIO())
