"""A sync run's phase from its steps (the Connections page, the API, `fluffymail import`):
reading, then finding people in batches, scoring, then indexing its mail for search."""

from __future__ import annotations

from datetime import UTC, datetime

from fluffymail.queue.workflows.models import StepInfo
from fluffymail.web.services.sync_progress import phase_of

T = datetime(2026, 12, 6, tzinfo=UTC)


def step(name: str, state: str, *, children: int | None = None, pending: int | None = None):
    kind = "group" if children is not None else "run"
    return StepInfo(name=name, kind=kind, state=state, attempts=1, started_at=T,
                    finished_at=None, children=children, pending=pending)  # fmt: skip


def test_phases_in_order_with_their_batches() -> None:
    reading = [step("extract", "open", children=2, pending=2), step("mark", "completed")]
    assert phase_of(reading).name == "reading"
    read = [*reading[:1], step("mark", "completed"), step("sync", "completed")]
    extracting = phase_of(read)
    assert (extracting.name, extracting.batches_done, extracting.batches_total) == (
        "extracting",
        0,
        2,
    )
    joined = [step("extract", "completed", children=2, pending=0), *read[1:]]
    assert phase_of(joined).name == "scoring"
    scored = [*joined, step("analyze", "completed")]
    assert phase_of(scored).name == "indexing"
    indexing = phase_of([*scored, step("index", "waiting", children=4, pending=1)])
    assert (indexing.name, indexing.batches_done, indexing.batches_total) == ("indexing", 3, 4)
