"""Gmail quota bench: how close GmailSource's pacing gets to the per-user quota, on the emulator.

Usage: .venv/bin/python bench/gmail_quota_bench.py [--quota-per-minute 15000] [--seconds 20]
Runs a full sync against tests/integration/gmail/emulator.py with quota enforcement on and
prints JSON: the sustained rate (after a warm-up) as a fraction of the quota (bar: >= 0.9).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from contextlib import aclosing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fluffymail.integrations.mail.gmail import GmailConfig, GmailSource, GmailToken  # noqa: E402
from tests.integration.gmail.conftest import enron_files  # noqa: E402
from tests.integration.gmail.emulator import GmailEmulator, Quota  # noqa: E402

BAR = 0.9


def _seed(emulator: GmailEmulator, count: int) -> None:
    raws = [p.read_bytes() for p in enron_files(10_000)]
    if not raws:
        raise SystemExit("no Enron corpus found (set FLUFFYMAIL_CORPUS)")
    for i in range(count):
        emulator.add_message(raws[i % len(raws)])


async def _sync_for(source: GmailSource, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    fetched = 0
    async with aclosing(source.pages(None)) as pages:
        async for page in pages:
            fetched += len(page.mails)
            if time.monotonic() >= deadline:
                break
    return fetched


def _slope(events: list[tuple[float, int]]) -> float:
    """Least-squares slope of cumulative units over time: the sustained units per second.

    (Units arrive in batch-sized steps, so a first-to-last ratio would count one step too many.)
    """
    points, total = [], 0
    for moment, units in events:
        total += units
        points.append((moment, total))
    n = len(points)
    if n < 2:
        return 0.0
    mean_t = sum(t for t, _ in points) / n
    mean_u = sum(u for _, u in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    return sum((t - mean_t) * (u - mean_u) for t, u in points) / var if var else 0.0


def _report(quota: Quota, fetched: int, args: argparse.Namespace) -> dict[str, Any]:
    times = [t for t, _ in quota.accepted]
    start, end = times[0], times[-1]
    sustained = _slope([(t, u) for t, u in quota.accepted if t >= start + args.warmup])
    total = sum(u for _, u in quota.accepted)
    ratio = sustained / quota.rate
    return {
        "bench": "gmail_quota",
        "quota_units_per_minute": args.quota_per_minute,
        "allowed_units_per_s": round(quota.rate, 2),
        "server_burst_units": quota.burst,
        "client_burst_units": args.client_burst,
        "batch_size": args.batch_size,
        "seconds": round(end - start, 2),
        "messages_fetched": fetched,
        "messages_per_s": round(fetched / (end - start), 1),
        "units_used": total,
        "sustained_units_per_s": round(sustained, 2),
        "ratio_sustained": round(ratio, 3),
        "ratio_incl_burst": round(total / (quota.burst + quota.rate * (end - start)), 3),
        "throttled_429": quota.refused,
        "bar": BAR,
        "pass": ratio >= BAR and quota.refused == 0,
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    emulator = GmailEmulator().start()
    try:
        per_second = args.quota_per_minute / 60
        needed = int(per_second * (args.seconds + 5) / 5) + 200
        _seed(emulator, needed)
        quota = emulator.enforce_quota(args.quota_per_minute, burst=2 * args.client_burst)
        access, refresh = emulator.grant()
        token = GmailToken(
            refresh_token=refresh, client_id="bench", client_secret="bench",
            access_token=access, expiry=datetime.now(UTC) + timedelta(hours=1),
        )  # fmt: skip
        config = GmailConfig(
            api_endpoint=emulator.url, token_uri=emulator.token_uri,
            quota_units_per_minute=args.quota_per_minute, quota_burst_units=args.client_burst,
            batch_size=args.batch_size,
        )  # fmt: skip
        fetched = await _sync_for(GmailSource(config, token), args.seconds)
        return _report(quota, fetched, args)
    finally:
        emulator.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quota-per-minute", type=float, default=15_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--client-burst", type=float, default=250)
    parser.add_argument("--batch-size", type=int, default=50)
    print(json.dumps(asyncio.run(main(parser.parse_args())), indent=2))
