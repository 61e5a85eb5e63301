"""Calendar files an attacker could upload: CPU to read each, or to refuse it (issue: the
audit's 413-byte FREQ=MINUTELY file held the web process for 19 s).

Usage: .venv/bin/python bench/ics_bench.py [--out FILE.json]
Each case is a calendar made here (no corpus), read once with `read_ics` in process CPU time
(`time.process_time`); prints one JSON line per case: bytes, CPU seconds, meetings or refusal.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from fluffymail.integrations.calendar.ics import IcsError, read_ics

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def ics(events: list[tuple[str, str, str]]) -> bytes:
    body = "".join(
        f"BEGIN:VEVENT\nUID:{uid}\n{start}\nDURATION:PT1H\nSUMMARY:{uid}\nRRULE:{rule}\n"
        "ORGANIZER:mailto:me@example.com\nATTENDEE:mailto:ann@acme.example\nEND:VEVENT\n"
        for uid, start, rule in events
    )
    return f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//bench//EN\n{body}END:VCALENDAR\n".encode()


def many(n: int, prefix: str, start: str, rule: str) -> list[tuple[str, str, str]]:
    return [(f"{prefix}{i}@b", start, rule) for i in range(n)]


CASES = {
    "3 minutely (the audit's file)": many(3, "m", "DTSTART:20250101T000000Z", "FREQ=MINUTELY"),
    "100 rules that match nothing": many(
        100, "x", "DTSTART:20200101T090000Z", "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"
    ),
    "5,000 counted daily rules from 1980": many(
        5000, "c", "DTSTART:19800101T090000Z", "FREQ=DAILY;COUNT=900000"
    ),
    "a busy calendar: 40 weekly and 10 daily series": [
        *many(40, "w", "DTSTART:20150105T090000Z", "FREQ=WEEKLY;BYDAY=MO,WE"),
        *many(10, "d", "DTSTART:20180104T083000Z", "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR"),
    ],
}


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--out", type=Path, default=None)
    args = cli.parse_args()
    results = []
    for name, events in CASES.items():
        data = ics(events)
        started = time.process_time()
        try:
            outcome = f"{len(read_ics(data, now=NOW).meetings)} meetings"
        except IcsError as exc:
            outcome = f"refused: {exc}"
        seconds = time.process_time() - started
        results.append({"case": name, "bytes": len(data), "cpu_s": round(seconds, 2),
                        "outcome": outcome})  # fmt: skip
        print(json.dumps(results[-1]))
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
