"""Issue 12 §4 ("One number, everywhere"): a mailbox run through the real pipeline (the worker
service, as `fluffymail demo` runs it), then every contact's figures read the way a user and a
client see them (the rendered list, contact page, activity panel, summary, timeline header,
evidence and warm-intro paths, and the JSON API) and compared. `disagreements` returns what
differs; the tests assert it is empty."""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from psycopg_pool import AsyncConnectionPool
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from fluffymail.clock import SystemClock
from fluffymail.config import Settings
from fluffymail.crm.mail import repo as mail_repo
from fluffymail.crm.mail.models import ConnectionKind
from fluffymail.jobs import build_registry, followup_reminder, sync_emails
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import JobQueue, runner

FIGURES = ("messages", "sent", "received", "threads", "two_way_threads")
UPDATING = "updating…"


@dataclass(frozen=True, slots=True)
class Disagreement:
    contact_id: int
    figure: str
    view: str
    shown: Any
    expected: Any

    def __str__(self) -> str:
        return f"contact {self.contact_id} {self.figure} in {self.view}: {self.shown!r} != {self.expected!r}"


# -- the pipeline ---------------------------------------------------------------------------


@asynccontextmanager
async def worker(settings: Settings, pool: AsyncConnectionPool) -> AsyncIterator[JobQueue]:
    """The real worker service over every FluffyMail queue, until the block ends."""
    queue = JobQueue(pool, poll_interval=0.05, rescue_interval=1.0, heartbeat_interval=0.2)
    deps = JobDeps(settings=settings, pool=pool, queue=queue, log=logging.getLogger("test"))
    registry = build_registry(deps, SystemClock())
    await runner.prepare(queue, registry)
    stop = asyncio.Event()
    task = asyncio.create_task(
        runner.run(queue, registry, settings.queue_concurrency, grace=2.0, stop=stop)
    )
    try:
        yield queue
    finally:
        stop.set()
        await task


async def settle(queue: JobQueue, within: float = 240.0) -> None:
    """Until no job is waiting or running, three looks in a row (a finishing job may enqueue)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    quiet = 0
    while quiet < 3:
        depth = await queue.get_queue_depth()
        busy = sum(  # follow-up reminders wait for their due time by design: not "busy"
            int(r["available"]) + int(r["deferred"]) + int(r["active"])
            for name, r in depth.items()
            if name != followup_reminder.QUEUE
        )
        quiet = quiet + 1 if busy == 0 else 0
        assert loop.time() < deadline, f"the pipeline did not settle: {depth}"
        await asyncio.sleep(0.3)


async def import_mailbox(
    pool: AsyncConnectionPool, queue: JobQueue, user_id: int, source: Path
) -> None:
    """Connect `source` (an mbox file or folder) and sync it through the queue, as the demo does."""
    async with pool.connection() as conn, conn.transaction():
        connection, _ = await mail_repo.upsert_connection(
            conn, user_id=user_id, kind=ConnectionKind.MBOX, source=str(source)
        )
        await sync_emails.enqueue(
            queue, sync_emails.Args(connection_id=connection.id, user_id=user_id), conn=conn
        )


# -- reading what is shown -------------------------------------------------------------------


async def api_items(http: httpx.AsyncClient, auth: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    offset: int | None = 0
    while offset is not None:
        page = await http.get(
            "/api/contacts", params={"limit": 100, "offset": offset}, headers=auth
        )
        assert page.status_code == 200, page.text
        body = page.json()
        items += body["items"]
        offset = body["next_offset"]
    return items


def _text(node: Node | None) -> str:
    return " ".join(node.text(deep=True).split()) if node is not None else ""


def _number(text: str) -> int | str:
    """ "1,234" -> 1234; "updating…" and anything else stay text."""
    digits = text.replace(",", "")
    return int(digits) if digits.isdigit() else text


def _when(node: Node | None) -> str | None:
    """The timestamp of an `ago(...)` (its title), "never", or "updating…"."""
    if node is None:
        return None
    if _text(node) == UPDATING:
        return UPDATING
    stamp = node.css_first("span[title]")
    if stamp is not None:
        return stamp.attributes.get("title")
    return _text(node)


def stamp(value: str | None) -> str:
    """An API datetime as the pages title it (filters.timestamp), or "never"."""
    if value is None:
        return "never"
    return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def strength_text(figures: dict[str, Any]) -> str:
    if figures["updating"]:
        return UPDATING
    return "" if figures["strength"] is None else str(math.floor(figures["strength"]))


def table_rows(html: str, selector: str) -> dict[int, dict[str, Any]]:
    """The rows of a rendered table of people: contact id -> what its row shows."""
    rows: dict[int, dict[str, Any]] = {}
    for tr in HTMLParser(html).css(selector):
        link = tr.css_first("a.person")
        assert link is not None
        contact_id = int(str(link.attributes["href"]).rsplit("/", 1)[1])
        strength = tr.css_first('[data-figure="strength"]')
        score = strength.css_first(".level-score") if strength else None
        rows[contact_id] = {
            "sent": _number(_text(tr.css_first('[data-figure="sent"]'))),
            "received": _number(_text(tr.css_first('[data-figure="received"]'))),
            "strength": _text(score) if score is not None else _text(strength),
            "last_at": _when(tr.css_first('[data-figure="last_at"]')),
        }
    return rows


async def list_rows(http: httpx.AsyncClient) -> dict[int, dict[str, Any]]:
    """The rendered contacts list, every page."""
    rows: dict[int, dict[str, Any]] = {}
    offset = 0
    while True:
        page = await http.get("/contacts", params={"offset": offset})
        assert page.status_code == 200
        found = table_rows(page.text, "table.contacts tbody tr")
        if not found:
            return rows
        rows |= found
        offset += len(found)


async def company_rows(
    http: httpx.AsyncClient, auth: dict[str, str]
) -> list[tuple[int, dict[int, dict[str, Any]]]]:
    """Each company page's people table: (company id, rows)."""
    out = []
    offset: int | None = 0
    while offset is not None:
        body = (
            await http.get("/api/companies", params={"limit": 100, "offset": offset}, headers=auth)
        ).json()
        for company in body["items"]:
            page = await http.get(f"/companies/{company['id']}")
            assert page.status_code == 200
            out.append(
                (
                    company["id"],
                    table_rows(page.text, "section[aria-labelledby=people-title] tbody tr"),
                )
            )
        offset = body["next_offset"]
    return out


SENTENCE = re.compile(
    r"([\d,]+) messages? in ([\d,]+) threads? \(([\d,]+) from you, ([\d,]+) from them\)"
)
EVIDENCE_PATTERNS = {
    "two_way_threads": re.compile(r"([\d,]+) two-way threads?"),
    "sent": re.compile(r"(?:you|You) sent ([\d,]+)|You wrote ([\d,]+) times?"),
    "received": re.compile(r"they sent ([\d,]+)|([\d,]+) messages? from them and none from you"),
    "messages": re.compile(r"cc'd together \(([\d,]+) messages?\)|of ([\d,]+) messages? only cc'd"),
}


def contact_page(html: str) -> dict[str, Any]:
    """What one contact page shows: header strength, Activity, summary, timeline, evidence."""
    tree = HTMLParser(html)
    shown: dict[str, Any] = {}
    header = tree.css_first('.contact-head [data-figure="strength"]')
    shown["header strength"] = _text(header) if header is not None else ""
    panel = tree.css_first("#figures")
    assert panel is not None, "the Activity panel"
    for name in FIGURES:
        shown[f"activity {name}"] = _number(_text(panel.css_first(f'[data-figure="{name}"]')))
    activity = tree.css_first('section[aria-labelledby="stats-title"]')
    assert activity is not None
    shown["activity last_at"] = _when(activity.css_first('[data-figure="last_at"]'))
    summary = tree.css_first('[data-figure="sentence"]')
    if summary is not None:
        text = _text(summary)
        match = SENTENCE.search(text)
        shown["summary"] = tuple(int(g.replace(",", "")) for g in match.groups()) if match else text
    head = tree.css_first('section[aria-labelledby="timeline-title"] .card-head')
    shown["timeline messages"] = _number(_text(head.css_first('[data-figure="messages"]')))
    evidence = [_text(p) for p in tree.css("ul.evidence li > p:first-child")]
    for name, pattern in EVIDENCE_PATTERNS.items():
        values = {
            int(g.replace(",", ""))
            for t in evidence
            for m in pattern.finditer(t)
            for g in m.groups()
            if g
        }
        if values:
            shown[f"evidence {name}"] = values
    shown["connectors"] = {
        int(li.attributes["data-connector"] or 0): _text(li.css_first("[data-connector-strength]"))
        for li in tree.css("li[data-connector]")
        if li.attributes.get("data-connector") and li.css_first("[data-connector-strength]")
    }
    return shown


# -- comparing -------------------------------------------------------------------------------


def _expect(figures: dict[str, Any], name: str) -> Any:
    return UPDATING if figures["updating"] else figures[name]


def compare_page(cid: int, shown: dict[str, Any], f: dict[str, Any]) -> list[Disagreement]:
    out = []

    def check(figure: str, view: str, value: Any, expected: Any) -> None:
        if value != expected:
            out.append(Disagreement(cid, figure, view, value, expected))

    if f["updating"] or f["strength"] is not None:
        check("strength", "contact page", shown["header strength"], strength_text(f))
    for name in FIGURES:
        check(name, "activity panel", shown[f"activity {name}"], _expect(f, name))
    check("last_at", "activity panel", shown["activity last_at"],
          UPDATING if f["updating"] else stamp(f["last_at"]))  # fmt: skip
    check("messages", "timeline", shown["timeline messages"], _expect(f, "messages"))
    if "summary" in shown:
        expected = (
            UPDATING if f["updating"] else (f["messages"], f["threads"], f["sent"], f["received"])
        )
        check("messages/threads/sent/received", "summary", shown["summary"], expected)
    for name in ("two_way_threads", "sent", "received", "messages"):
        if f"evidence {name}" in shown:
            check(name, "evidence", shown[f"evidence {name}"], {f[name]})
    return out


def compare_api(
    cid: int, item: dict[str, Any] | None, detail: dict[str, Any]
) -> list[Disagreement]:
    out = []
    f = detail["figures"]
    if item is not None:
        for key in ("figures", "sent", "received", "updating", "last_interaction_on"):
            if item[key] != detail[key]:
                out.append(
                    Disagreement(cid, key, "API list vs API contact", item[key], detail[key])
                )
        if item["score"] != f["strength"]:
            out.append(Disagreement(cid, "strength", "API list", item["score"], f["strength"]))
    checks = {
        "sent": detail["sent"],
        "received": detail["received"],
        "updating": detail["updating"],
        "last_at": detail["last_interaction_on"],
        "first_at": detail["first_interaction_on"],
    }
    for key, value in checks.items():
        if value != f[key]:
            out.append(Disagreement(cid, key, "API contact", value, f[key]))
    if f["updating"] and any(f[name] is not None for name in (*FIGURES, "strength")):
        out.append(Disagreement(cid, "numbers", "API while updating", f, None))
    r = detail["relationship"]
    if r is not None:
        pairs = {
            "strength": (r["score"], f["strength"]),
            "sent": (r["stats"]["sent"], f["sent"]),
            "received": (r["stats"]["received"], f["received"]),
            "two_way_threads": (r["stats"]["two_way_threads"], f["two_way_threads"]),
            "last_at": (r["stats"]["last_at"], f["last_at"]),
        }
        for name, (value, expected) in pairs.items():
            if value != expected:
                out.append(Disagreement(cid, name, "API relationship", value, expected))
    return out


def compare_list(
    cid: int, row: dict[str, Any], f: dict[str, Any], view: str = "contacts list"
) -> list[Disagreement]:
    expected = {
        "sent": _expect(f, "sent"),
        "received": _expect(f, "received"),
        "strength": strength_text(f) or "No connection",
        "last_at": UPDATING if f["updating"] else stamp(f["last_at"]),
    }
    return [
        Disagreement(cid, name, view, row[name], value)
        for name, value in expected.items()
        if row[name] != value
    ]


async def disagreements(
    http: httpx.AsyncClient, auth: dict[str, str], contact_ids: list[int]
) -> tuple[list[Disagreement], int]:
    """Every view of every contact against the API's figures; and how many contacts were read."""
    items = {i["id"]: i for i in await api_items(http, auth)}
    rows = await list_rows(http)
    found: list[Disagreement] = []
    if set(rows) != set(items):
        found.append(Disagreement(0, "contacts", "list vs API", sorted(rows), sorted(items)))
    details: dict[int, dict[str, Any]] = {}
    for cid in contact_ids:
        response = await http.get(f"/api/contacts/{cid}", headers=auth)
        assert response.status_code == 200, response.text
        details[cid] = response.json()
    for cid in contact_ids:
        f = details[cid]["figures"]
        found += compare_api(cid, items.get(cid), details[cid])
        if cid in rows:
            found += compare_list(cid, rows[cid], f)
        page = await http.get(f"/contacts/{cid}")
        assert page.status_code == 200
        shown = contact_page(page.text)
        found += compare_page(cid, shown, f)
        for connector, text in shown["connectors"].items():
            expected = (
                strength_text(details[connector]["figures"]) if connector in details else None
            )
            if text != expected:
                found.append(Disagreement(cid, "connector strength", "warm intro", text, expected))
    companies = await company_rows(http, auth)
    for company_id, people in companies:
        for cid, row in people.items():
            found += compare_list(cid, row, details[cid]["figures"], f"company {company_id} page")
    return found, len(contact_ids)
