"""Gmail emulator fixtures: a running emulator seeded with Enron mail, and sources pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fluffymail.integrations.mail.gmail import GmailConfig, GmailSource, GmailToken
from tests.corpus import CORPUS, require

from .emulator import GmailEmulator

REPO = Path(__file__).resolve().parents[3]


def enron_files(limit: int) -> list[Path]:
    folder = CORPUS / "enron" / "maildir"
    return sorted(p for p in folder.rglob("*") if p.is_file() and "/cur/" in str(p))[:limit]


@pytest.fixture(scope="session")
def enron_messages() -> list[bytes]:
    """Real messages from the corpus, read in place (never copied into the repo)."""
    require(CORPUS / "enron" / "maildir")
    return [p.read_bytes() for p in enron_files(400)]


@pytest.fixture
def emulator() -> Iterator[GmailEmulator]:
    server = GmailEmulator().start()
    yield server
    server.stop()


class Sleeps:
    """Records backoff and pacing sleeps instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_source(emulator: GmailEmulator, sleeps: Sleeps) -> Callable[..., GmailSource]:
    """`make_source(expired=False, revoked=False, **config)` -> a GmailSource on the emulator."""

    def make(
        *, expired: bool = False, token: GmailToken | None = None, **config: Any
    ) -> GmailSource:
        if token is None:
            access, refresh = emulator.grant()
            expiry = datetime.now(UTC) + (timedelta(hours=-1) if expired else timedelta(hours=1))
            token = GmailToken(
                refresh_token=refresh, client_id="client-id", client_secret="client-secret",
                access_token=access, expiry=expiry,
            )  # fmt: skip
        options: dict[str, Any] = {"api_endpoint": emulator.url, "token_uri": emulator.token_uri}
        return GmailSource(GmailConfig(**options, **config), token, sleep=sleeps)

    return make
