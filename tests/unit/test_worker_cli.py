"""`fluffymail worker` holds one external AI client for its lifetime and closes it on the way out."""

from __future__ import annotations

from pathlib import Path

from fluffymail.cli.worker import summary_provider
from fluffymail.config import Settings


async def test_summary_provider__closed_when_the_worker_stops(tmp_path: Path) -> None:
    config = Settings(
        data_dir=tmp_path,
        ai_provider="openai",
        openai_base_url="http://127.0.0.1:9/v1",  # never called: only built and closed
    )
    async with summary_provider(config) as provider:
        assert provider is not None
        client = provider._client
        assert not client.is_closed()
    assert client.is_closed()


async def test_summary_provider__none_when_summaries_stay_offline(tmp_path: Path) -> None:
    async with summary_provider(Settings(data_dir=tmp_path, ai_provider="offline")) as provider:
        assert provider is None
