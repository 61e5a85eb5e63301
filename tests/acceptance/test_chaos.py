"""The chaos suite, CI size: a few thousand jobs through worker processes that are SIGKILLed and
SIGTERMed while their scratch PostgreSQL restarts and their network is black-holed; nothing is
lost, stuck or completed twice, and every extra execution is matched to a fault.

The full run (minutes, with a report) is `bench/chaos.py`. Timings are reported, not asserted,
except that a SIGTERMed worker must exit (with code 3 when it abandoned work).
"""

from __future__ import annotations

import time

import pytest

from tests.chaos import report
from tests.chaos.cluster import Cluster, pg_bin
from tests.chaos.harness import Plan, Run

pytestmark = pytest.mark.slow

PLAN = Plan(
    jobs=1_500,
    workers=3,
    concurrency=4,
    kills=(3.0, 10.0),
    sigterms=(5.5,),
    restarts=((7.5, "fast"),),
    blackhole_at=13.0,
    blackhole_seconds=8.0,  # longer than the watchdog's 6 s
    sigterm_in_blackhole=1.0,  # the network heals after grace + shutdown_timeout: exit code 3
    grace=1.0,
    drain_timeout=60.0,
    short_ms=(1, 3),
    long_ms=(100, 300),
    long_share=0.3,  # about 15 s of work for 12 slots: the faults land on a busy fleet
)


@pytest.fixture
def cluster():
    bin_dir = pg_bin()
    if bin_dir is None:
        pytest.skip("initdb/pg_ctl not found: the chaos suite needs PostgreSQL server binaries")
    made = Cluster(bin_dir)
    made.start()
    yield made
    try:
        made.stop()
    finally:
        made.remove()


def test_chaos__nothing_lost_stuck_or_completed_twice(cluster: Cluster) -> None:
    started = time.monotonic()
    log = Run(cluster, PLAN, say=lambda line: print(line)).execute()
    result = report.build(cluster.url("chaos"), PLAN, log)
    print(report.summary(result), f"\n(run took {time.monotonic() - started:.0f} s)")
    assert result["lost"] == 0
    assert result["stuck"] == 0
    assert result["completed_twice"] == 0
    assert result["duplicates"]["unmatched"] == []
    assert result["late_acks"]["accepted"] == 0
    codes = {s["case"]: s["exit_code"] for s in result["shutdowns"]}
    assert codes["handler ignores cancellation"] == 3
    assert codes["blackholed database"] == 3
    assert all(code is not None for code in codes.values()), "a SIGTERMed worker did not exit"
