"""The chaos suite, full size: worker processes under SIGKILL every 10 s, graceful stops, two
PostgreSQL restarts (-m fast, -m immediate) and a 45 s black hole, on a scratch server of its own.

Prints a summary and writes the full report (JSON) to bench/results/chaos-<UTC time>.json:

    .venv/bin/python bench/chaos.py [--jobs 50000] [--workers 4] [--concurrency 10]

The CI-sized run is tests/acceptance/test_chaos.py; both use the harness in tests/chaos/.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.chaos import report  # noqa: E402
from tests.chaos.cluster import Cluster, pg_bin  # noqa: E402
from tests.chaos.harness import Plan, Run  # noqa: E402


def main() -> int:
    defaults = Plan()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=defaults.jobs)
    parser.add_argument("--workers", type=int, default=defaults.workers)
    parser.add_argument("--concurrency", type=int, default=defaults.concurrency)
    parser.add_argument("--grace", type=float, default=defaults.grace)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--drain-timeout", type=float, default=defaults.drain_timeout)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    bin_dir = pg_bin()
    if bin_dir is None:
        print("chaos: initdb/pg_ctl not found (install PostgreSQL server binaries)")
        return 2
    plan = dataclasses.replace(
        defaults,
        jobs=args.jobs,
        workers=args.workers,
        concurrency=args.concurrency,
        grace=args.grace,
        seed=args.seed,
        drain_timeout=args.drain_timeout,
    )
    cluster = Cluster(bin_dir)
    try:
        cluster.start()

        def say(line: str) -> None:
            print(f"[chaos {time.strftime('%H:%M:%S')}] {line}", flush=True)

        log = Run(cluster, plan, say).execute()
        result = report.build(cluster.url("chaos"), plan, log)
        stamp = time.strftime("%Y-%m-%dT%H%M", time.gmtime())
        out = args.out or REPO / "bench" / "results" / f"chaos-{stamp}.json"
        report.write(result, out)
        print(report.summary(result))
        print(f"report: {out}")
        return 0 if all(result["bars"].values()) else 1
    finally:
        try:
            cluster.stop()
        finally:
            cluster.remove()


if __name__ == "__main__":
    sys.exit(main())
