"""Every GET page and GET API route a person opens, timed on an existing database (issue 19's
bar: p95 < 100 ms at 1M messages, with the planner statistics the product left).

Usage: .venv/bin/python bench/web_routes_bench.py --database fm_pipe_… [--user EMAIL]
           [--dsn postgresql://postgres@127.0.0.1:5432/test] [--requests 20] [--warmup 5]
           [--only REGEX] [--statements] [--label before] [--no-setup] [--out FILE]

Meant for a database `pipeline_bench.py --keep --policy sent_and_received` filled through the
real pipeline (its user is pipeline@bench.fluffymail). The app runs in process (httpx ASGI
transport) with that database's URL: pages with a session cookie (a session made for the user
as the login form makes one), API routes with an API token, one request at a time.

Realistic ids are read from the database: the top contact (strongest), a contact with few
messages, the person with the most mail, the biggest company (most listed contacts), the
longest thread's latest message, the top contact's latest message, the biggest folder; search
words: the top contact's first name, its domain, a common word, two words and a phrase. Unless
`--no-setup`, the first run also gives the user what a person would have made (once, through
the API): a tag on the 200 strongest contacts and 20 companies, a note on the top contact and
the company, a cadence, a saved view and a static list, and the follow-ups recomputed. Page 20
of a list is its offset 950 (50 a page), or the `next_after` of page 19 for the messages.

Each route: `--warmup` requests (psycopg prepares a statement after 5 runs, so the plans timed
are the ones a long-running process uses), then `--requests` timed ones (5 after one warm-up
for a route over a second a request); p50 / p95 in ms, the status and the response's size.
Routes marked `outside` (whole-file downloads) are reported but not held to the bar. Admin
pages (/jobs) are not timed. `--statements` also times every SQL statement a route runs (the
name of its .sql file when it is one, median ms per request), to find the slow one.
Writes JSON to bench/results/web_routes_bench-<date>[-label].json and prints the table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import dataclasses
import json
import os
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import psycopg
from psycopg.conninfo import make_conninfo

from fluffymail.config import Settings
from fluffymail.web.app import create_app
from fluffymail.web.deps import SESSION_COOKIE
from fluffymail.web.services import accounts

BAR_MS = 100
USER = "pipeline@bench.fluffymail"
RESULTS = Path(__file__).resolve().parent / "results"
TAG = "Bench"
VIEW = "Bench: strong"
STATIC = "Bench: top 100"
PAGE = 50  # contacts, companies, lists: page 20 is offset 950
MESSAGES_PAGE = 25
TIMELINE_PAGE = 20  # the contact page's timeline (ui/contacts.py TIMELINE_SIZE)
SLOW_S, SLOW_REQUESTS = 1.0, 5  # a route over a second a request is timed 5 times, not N


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    name: str
    path: str
    api: bool
    outside: bool = False  # reported, not held to the bar (whole-file downloads)


@dataclass(frozen=True, slots=True, kw_only=True)
class Ids:
    user_id: int
    connection: int
    top: int
    few: int
    busiest: int  # the person with the most mail
    company: int
    other_domain: str  # another company's, for the company merge page
    thread_message: int
    message: int
    name: str
    domain: str
    group: int | None
    folder: str  # the user's biggest folder
    followup: int | None
    tag: int | None
    company_tag: bool
    view: int | None
    static: int | None
    note: int | None
    messages_after: str | None  # `next_after` of page 19: page 20 of the message list
    search_after: str | None  # the same for a common word


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


# --- which statement is which: every .sql file of the package, by its text -----------------

_SQL_NAMES: dict[str, str] = {}


def _sql_names() -> dict[str, str]:
    if not _SQL_NAMES:
        root = resources.files("fluffymail")

        def walk(folder: Any, dotted: str) -> None:
            for entry in folder.iterdir():
                if entry.is_dir() and entry.name != "__pycache__":
                    walk(entry, f"{dotted}/{entry.name}")
                elif entry.name.endswith(".sql") and "migrations" not in dotted:
                    text = " ".join(entry.read_text("utf-8").split())
                    _SQL_NAMES[text] = f"{dotted.strip('/')}/{entry.name}"

        walk(root, "")
    return _SQL_NAMES


def _statement_name(query: Any) -> str:
    text = query if isinstance(query, str) else getattr(query, "as_string", lambda _: "")(None)
    flat = " ".join(str(text).split())
    found = _sql_names().get(flat)
    if found:
        return found.removeprefix("web/sql/").removeprefix("crm/")
    for known, name in _sql_names().items():  # composed statements start with a file's text
        if len(known) > 40 and flat.startswith(known[:200]):
            return name + " (+)"
    return flat[:90]


_timings: contextvars.ContextVar[list[tuple[str, float]] | None] = contextvars.ContextVar(
    "statement_timings", default=None
)


def _time_statements() -> None:
    """Record every statement's time in the current request's list (`--statements`)."""
    original = psycopg.AsyncCursor.execute

    async def execute(self: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await original(self, query, params, **kwargs)
        finally:
            found = _timings.get()
            if found is not None:
                found.append((_statement_name(query), (time.perf_counter() - started) * 1000))

    psycopg.AsyncCursor.execute = execute  # type: ignore[method-assign]


# --- the ids and what a person would have made ------------------------------------------------

PICKS = """
WITH listed AS (
    SELECT c.id, c.company_id, c.first_name, c.name, c.primary_address, r.score,
           r.sent + r.received AS messages
    FROM crm.contacts c JOIN crm.relationships r ON r.user_id = c.user_id AND r.contact_id = c.id
    WHERE c.user_id = %(u)s AND c.visible_on IS NOT NULL AND c.merged_into_id IS NULL
      AND c.suppressed_reason IS NULL AND c.kind = 'person'
)
SELECT (SELECT id FROM listed ORDER BY score DESC, id LIMIT 1) AS top,
       (SELECT id FROM listed WHERE messages > 0 ORDER BY messages, id LIMIT 1) AS few,
       (SELECT c.id FROM crm.contacts c
        WHERE c.user_id = %(u)s AND c.visible_on IS NOT NULL AND c.merged_into_id IS NULL
          AND c.suppressed_reason IS NULL AND c.kind = 'person'
        ORDER BY c.sent_to_count + c.received_from_count + c.cc_count DESC, c.id
        LIMIT 1) AS busiest,
       (SELECT f.name FROM crm.folders f JOIN crm.connections cn ON cn.id = f.connection_id
        WHERE cn.user_id = %(u)s
        ORDER BY (SELECT count(*) FROM crm.message_folders mf WHERE mf.folder_id = f.id) DESC
        LIMIT 1) AS folder,
       (SELECT company_id FROM listed WHERE company_id IS NOT NULL
        GROUP BY company_id ORDER BY count(*) DESC, company_id LIMIT 1) AS company,
       (SELECT co.domain FROM listed JOIN crm.companies co ON co.id = listed.company_id
        GROUP BY co.id ORDER BY count(*) DESC, co.id OFFSET 1 LIMIT 1) AS other_domain,
       (SELECT m.id FROM crm.messages m
        WHERE m.user_id = %(u)s AND m.thread_id = (
            SELECT id FROM crm.threads WHERE user_id = %(u)s
            ORDER BY message_count DESC, id LIMIT 1)
        ORDER BY m.date DESC NULLS LAST, m.id DESC LIMIT 1) AS thread_message,
       (SELECT id FROM crm.connections WHERE user_id = %(u)s ORDER BY id LIMIT 1) AS connection,
       (SELECT id FROM crm.contacts WHERE user_id = %(u)s AND kind = 'group'
          AND merged_into_id IS NULL ORDER BY id LIMIT 1) AS grp
"""
TOP = """
SELECT c.first_name, c.name, c.primary_address, co.domain,
       (SELECT l.message_id FROM crm.contact_addresses a
        JOIN crm.contact_links l ON l.user_id = a.user_id AND l.address = a.address
        WHERE a.user_id = c.user_id AND a.contact_id = c.id
        ORDER BY l.occurred_on DESC NULLS LAST LIMIT 1) AS message
FROM crm.contacts c LEFT JOIN crm.companies co ON co.id = c.company_id
WHERE c.id = %(c)s
"""


async def _json(http: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> Any:
    response = await http.request(method, path, **kwargs)
    assert response.status_code < 300, (method, path, response.status_code, response.text)
    return response.json() if response.content else None


async def _setup(http: httpx.AsyncClient, picks: dict[str, Any]) -> None:
    """What a person would have made, once: a tag, a note, a cadence, two lists."""
    tags = await _json(http, "GET", "/api/tags")
    if any(t["name"] == TAG for t in tags):
        return
    tag = await _json(http, "POST", "/api/tags", json={"name": TAG, "colour": "green"})
    strongest = await _json(http, "GET", "/api/contacts", params={"limit": 200})
    ids = [c["id"] for c in strongest["items"]]
    await _json(
        http, "POST", "/api/contacts/bulk", json={"action": "tag", "tag_id": tag["id"], "contact_ids": ids}
    )  # fmt: skip
    companies = await _json(http, "GET", "/api/companies", params={"limit": 20})
    for company in companies["items"]:
        await _json(http, "PUT", f"/api/companies/{company['id']}/tags/{tag['id']}")
    note = "Met at the **board** meeting; follow up on the contract."
    await _json(http, "POST", f"/api/contacts/{picks['top']}/notes", json={"body": note})
    await _json(http, "POST", f"/api/companies/{picks['company']}/notes", json={"body": note})
    await _json(http, "PUT", f"/api/contacts/{picks['top']}/cadence", json={"days": 30})
    await _json(
        http, "POST", "/api/lists", json={"name": VIEW, "filter": "level:strong", "shared": True}
    )
    static = await _json(http, "POST", "/api/lists", json={"name": STATIC, "kind": "static"})
    await _json(
        http, "POST", f"/api/lists/{static['id']}/contacts", json={"contact_ids": ids[:100]}
    )
    await _json(http, "POST", "/api/followups/recompute")


async def _after(http: httpx.AsyncClient, params: dict[str, Any], pages: int) -> str | None:
    """`next_after` of page `pages` of /api/messages (keyset pages have no offset)."""
    after = None
    for _ in range(pages):
        query = {**params, **({"after": after} if after else {})}
        body = await _json(http, "GET", "/api/messages", params=query)
        after = body["next_after"]
        if not after:
            return None
    return after


async def _ids(url: str, user_id: int, http: httpx.AsyncClient, setup: bool) -> Ids:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        picks = await (await cur.execute(PICKS, {"u": user_id})).fetchone()
        assert picks and picks["top"], "no scored contact: run the pipeline with a policy"
        top = await (await cur.execute(TOP, {"c": picks["top"]})).fetchone()
    assert top is not None
    if setup:
        await _setup(http, picks)
    tags = await _json(http, "GET", "/api/tags")
    tag = next((t["id"] for t in tags if t["name"] == TAG), None)
    lists = await _json(http, "GET", "/api/lists")
    board = await _json(http, "GET", "/api/followups")
    followup = next((f["id"] for part in board.values() if isinstance(part, list)
                     for f in part if isinstance(f, dict) and "id" in f), None)  # fmt: skip
    notes = await _json(http, "GET", f"/api/contacts/{picks['top']}/notes")
    company_tags = await _json(http, "GET", f"/api/companies/{picks['company']}/tags")
    name = (top["first_name"] or top["name"].split()[0] if top["name"] else "") or "jeff"
    return Ids(
        user_id=user_id,
        connection=picks["connection"],
        top=picks["top"],
        few=picks["few"],
        busiest=picks["busiest"],
        folder=picks["folder"] or "INBOX",
        company=picks["company"],
        other_domain=picks["other_domain"],
        thread_message=picks["thread_message"],
        message=top["message"] or picks["thread_message"],
        name=name.lower(),
        domain=top["domain"] or top["primary_address"].split("@")[1],
        group=picks["grp"],
        followup=followup,
        tag=tag,
        company_tag=bool(company_tags),
        view=next((x["id"] for x in lists if x["name"] == VIEW), None),
        static=next((x["id"] for x in lists if x["name"] == STATIC), None),
        note=notes[0]["id"] if notes else None,
        messages_after=await _after(http, {}, 19),
        search_after=await _after(http, {"q": COMMON}, 19),
    )


# --- the routes -------------------------------------------------------------------------------

COMMON = "meeting"  # a common word of the Enron mail
PHRASE = '"conference call"'
WORDS = "gas price"  # two common words, not a phrase


def routes(ids: Ids) -> list[Route]:
    """Every GET page and API route a person opens, with realistic ids and parameters."""
    c, few, co, m = ids.top, ids.few, ids.company, ids.message
    name, domain = quote(ids.name), quote(ids.domain)
    found: list[Route] = []

    def page(label: str, path: str, *, outside: bool = False) -> None:
        found.append(Route(name=f"page {label}", path=path, api=False, outside=outside))

    def api(label: str, path: str, *, outside: bool = False) -> None:
        found.append(Route(name=f"api {label}", path=path, api=True, outside=outside))

    # home (redirects to the contacts page), contacts: every sort and filter, pages 1 and 20
    page("/ (home, redirect)", "/")
    for label, query in _contact_queries(ids, name, domain):
        page(f"/contacts {label}", f"/contacts?{query}")
        api(f"/api/contacts {label}", f"/api/contacts?{_api_contacts(query)}")
    page("/contacts/table (htmx search)", f"/contacts/table?q={name}")
    # one contact: the top one and one with few messages
    for who, cid in (("top", c), ("few", few), ("busiest", ids.busiest)):
        page(f"/contacts/{{{who}}}", f"/contacts/{cid}")
        api(f"/api/contacts/{{{who}}}", f"/api/contacts/{cid}")
        api(f"/api/contacts/{{{who}}}/timeline", f"/api/contacts/{cid}/timeline")
        page(f"/contacts/{{{who}}}/timeline (more)", f"/contacts/{cid}/timeline?offset=20")
    page("/contacts/{top}/timeline page 20", f"/contacts/{c}/timeline?offset={19 * TIMELINE_PAGE}")
    api("/api/contacts/{top}/timeline page 20", f"/api/contacts/{c}/timeline?offset={19 * PAGE}")
    for sub in ("notes", "activity", "tags", "meetings", "cadence"):
        api(f"/api/contacts/{{top}}/{sub}", f"/api/contacts/{c}/{sub}")
    page("/contacts/{top}/merge {few}", f"/contacts/{c}/merge?other_contact_id={few}")
    page("/contacts/{top}/merge-candidates", f"/contacts/{c}/merge-candidates?q={name}")
    # companies
    for label, query in (
        ("", ""),
        ("page 20", f"offset={19 * PAGE}"),
        ("search name", f"q={quote(domain.split('.')[0])}"),
        ("search domain", f"q={domain}"),
        *((("tag", f"tag={ids.tag}"),) if ids.tag and ids.company_tag else ()),
    ):
        page(f"/companies {label}".rstrip(), f"/companies?{query}")
        api(f"/api/companies {label}".rstrip(), f"/api/companies?{query}")
    page("/companies/{biggest}", f"/companies/{co}")
    api("/api/companies/{biggest}", f"/api/companies/{co}")
    for sub in ("notes", "activity", "tags"):
        api(f"/api/companies/{{biggest}}/{sub}", f"/api/companies/{co}/{sub}")
    page(
        "/companies/{biggest}/merge {second}",
        f"/companies/{co}/merge?domain={quote(ids.other_domain)}",
    )
    # mail: the list, searches, filters, a message, a thread's message
    for label, query in _message_queries(ids, name, domain):
        page(f"/messages {label}".rstrip(), f"/messages?{query}")
        api(f"/api/messages {label}".rstrip(), f"/api/messages?{_api_messages(query)}")
    for label, q in (("name", name), ("domain", domain), ("common word", COMMON)):
        page(f"/messages/people {label}", f"/messages/people?q={q}")
        api(f"/api/messages/people {label}", f"/api/messages/people?q={q}")
    page("/messages/{top's latest}", f"/messages/{m}")
    api("/api/messages/{top's latest}", f"/api/messages/{m}")
    page("/messages/{longest thread's latest}", f"/messages/{ids.thread_message}")
    api("/api/messages/{longest thread's latest}", f"/api/messages/{ids.thread_message}")
    # follow-ups, groups, lists, tags, connections, you, team, account, imports, webhooks
    page("/followups", "/followups")
    api("/api/followups", "/api/followups")
    page("/followups/digest", "/followups/digest")
    if ids.followup:
        api("/api/followups/{one}", f"/api/followups/{ids.followup}")
    page("/groups", "/groups")
    api("/api/groups", "/api/groups")
    api("/api/groups/named", "/api/groups/named")
    if ids.group:
        page("/groups/{one}", f"/groups/{ids.group}")
        api("/api/groups/{one}", f"/api/groups/{ids.group}")
    page("/lists", "/lists")
    api("/api/lists", "/api/lists")
    for label, lid in (("view", ids.view), ("static", ids.static)):
        if lid:
            page(f"/lists/{{{label}}}", f"/lists/{lid}")
            page(f"/lists/{{{label}}} page 20", f"/lists/{lid}?offset={19 * PAGE}")
            api(f"/api/lists/{{{label}}}", f"/api/lists/{lid}")
            api(f"/api/lists/{{{label}}}/contacts", f"/api/lists/{lid}/contacts")
            api(f"/api/lists/{{{label}}}/contacts page 20", f"/api/lists/{lid}/contacts?offset=950")
            api(f"/api/lists/{{{label}}}/activity", f"/api/lists/{lid}/activity")
            page(f"/lists/{{{label}}}/export", f"/lists/{lid}/export", outside=True)
    api("/api/tags", "/api/tags")
    if ids.note:
        api("/api/notes/{one}", f"/api/notes/{ids.note}")
    cid = ids.connection
    page("/connections", "/connections")
    page("/connections/list (htmx refresh)", "/connections/list")
    api("/api/connections", "/api/connections")
    api("/api/connections/{import}", f"/api/connections/{cid}")
    page("/connections/{import}/people", f"/connections/{cid}/people")
    api("/api/connections/{import}/people", f"/api/connections/{cid}/people")
    page("/you", "/you")
    api("/api/me/identity", "/api/me/identity")
    api("/api/me", "/api/me")
    api("/api/me/tokens", "/api/me/tokens")
    page("/account", "/account")
    page("/team", "/team")
    api("/api/team", "/api/team")
    page("/import", "/import")
    api("/api/imports", "/api/imports")
    page("/webhooks", "/webhooks")
    api("/api/webhooks", "/api/webhooks")
    # whole-file downloads: outside the bar (they grow with what they export)
    api("/api/contacts/export csv", "/api/contacts/export?format=csv", outside=True)
    api("/api/companies/export", "/api/companies/export", outside=True)
    return found


def _contact_queries(ids: Ids, name: str, domain: str) -> Iterator[tuple[str, str]]:
    """The contacts list's sorts and filters (the page's field names)."""
    yield "", ""
    yield "page 20", f"offset={19 * PAGE}"
    for sort in ("last_interaction", "name", "tag"):
        yield f"sort={sort}", f"sort={sort}"
        yield f"sort={sort} page 20", f"sort={sort}&offset={19 * PAGE}"
    for level in ("very strong", "strong", "moderate", "weak"):
        yield f"level={level}", f"level={quote(level)}"
    yield "going cold", "cold=1"
    yield "colleagues", "people=internal"
    yield "outsiders", "people=external"
    yield "company", f"company={ids.company}"
    if ids.tag:
        yield "tag", f"tag={ids.tag}"
        yield "tag sort=name", f"tag={ids.tag}&sort=name"
    yield "search name", f"q={name}"
    yield "search domain", f"q={domain}"
    yield "search one letter", "q=e"
    yield "search + level", f"q={name}&level=moderate"


def _api_contacts(query: str) -> str:
    """The page's field names as the API's (people=, cold=, company=)."""
    query = query.replace("cold=1", "going_cold=true")
    query = query.replace("people=internal", "internal=true")
    query = query.replace("people=external", "internal=false")
    return query.replace("company=", "company_id=")


def _api_messages(query: str) -> str:
    """The page's date fields (a day) as the API's (a time)."""
    return re.sub(r"(since|until)=(\d{4}-\d\d-\d\d)", r"\1=\2T00:00:00Z", query)


def _message_queries(ids: Ids, name: str, domain: str) -> Iterator[tuple[str, str]]:
    phrase, words = quote(PHRASE), quote(WORDS)
    yield "", ""
    if ids.messages_after:
        yield "page 20", f"after={ids.messages_after}"
    yield "search name", f"q={name}"
    yield "search domain", f"q={domain}"
    yield "search common word", f"q={COMMON}"
    if ids.search_after:
        yield "search common word page 20", f"q={COMMON}&after={ids.search_after}"
    yield "search two words", f"q={words}"
    yield "search phrase", f"q={phrase}"
    yield "search common word by date", f"q={COMMON}&sort=date"
    yield "from top contact", f"from_contact={ids.top}"
    yield "to top contact", f"to_contact={ids.top}"
    yield "from busiest person", f"from_contact={ids.busiest}"
    yield "to busiest person", f"to_contact={ids.busiest}"
    yield "company", f"company={ids.company}"
    yield "common word + company", f"q={COMMON}&company={ids.company}"
    yield "with attachments", "attachment=true"
    yield "since 2001-06-01", "since=2001-06-01"
    yield "folder (the biggest)", f"folder={quote(ids.folder)}"


# --- timing -----------------------------------------------------------------------------------


async def _time(
    http: httpx.AsyncClient, route: Route, requests: int, warmup: int, statements: bool
) -> dict[str, Any]:
    for i in range(warmup):
        started = time.perf_counter()
        await http.get(route.path)
        if i == 0 and time.perf_counter() - started > SLOW_S:  # seconds each: fewer of them
            requests = min(requests, SLOW_REQUESTS)
            break
    times: list[float] = []
    per_statement: dict[str, list[float]] = defaultdict(list)
    response = None
    for _ in range(requests):
        found: list[tuple[str, float]] = []
        token = _timings.set(found if statements else None)
        started = time.perf_counter()
        try:
            response = await http.get(route.path)
        finally:
            times.append((time.perf_counter() - started) * 1000)
            _timings.reset(token)
        summed: dict[str, float] = defaultdict(float)
        for statement, ms in found:
            summed[statement] += ms
        for statement, ms in summed.items():
            per_statement[statement].append(ms)
    assert response is not None
    result: dict[str, Any] = {
        "path": route.path,
        "status": response.status_code,
        "bytes": len(response.content),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(_percentile(times, 0.95), 1),
        "requests": requests,
        "outside_bar": route.outside,
    }
    if statements:
        slow = sorted(per_statement.items(), key=lambda kv: -statistics.median(kv[1]))
        result["statements_ms"] = {
            name: round(statistics.median(ms), 1) for name, ms in slow[:6] if ms
        }
    return result


STATS = """
SELECT relname, n_live_tup, n_mod_since_analyze, last_analyze, last_vacuum
FROM pg_stat_user_tables WHERE schemaname = 'crm' AND n_live_tup > 100000 ORDER BY relname
"""


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    url = make_conninfo(args.dsn, dbname=args.database)
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        row = await (
            await conn.execute("SELECT id FROM crm.users WHERE email = %s", (args.user,))
        ).fetchone()
        tables = [list(r) for r in await (await conn.execute(STATS)).fetchall()]
        messages = (await (await conn.execute("SELECT count(*) FROM crm.messages")).fetchone())[0]  # type: ignore[index]
    if row is None:
        raise SystemExit(f"no user {args.user!r} in {args.database}")
    if args.statements:
        _time_statements()
    settings = Settings(database_url=url, migrate_on_start=False, log_level="WARNING")
    app = create_app(settings)
    results: dict[str, Any] = {}
    async with app.router.lifespan_context(app):
        pool = app.state.fm.pool
        account = await accounts.find_account(pool, args.user)
        assert account is not None
        token = await accounts.create_api_token(pool, account.id, "web_routes_bench")
        cookie, _ = await accounts.start_session(pool, account)
        transport = httpx.ASGITransport(app=app)
        base = "http://bench"
        async with (
            httpx.AsyncClient(
                transport=transport, base_url=base, headers={"Authorization": f"Bearer {token}"}
            ) as http,
            httpx.AsyncClient(
                transport=transport, base_url=base, cookies={SESSION_COOKIE: cookie}
            ) as browser,
        ):
            ids = await _ids(url, row[0], http, setup=not args.no_setup)
            chosen = [r for r in routes(ids) if not args.only or re.search(args.only, r.name)]
            for route in chosen:
                client = http if route.api else browser
                results[route.name] = await _time(
                    client, route, args.requests, args.warmup, args.statements
                )
                _print_row(route.name, results[route.name])
    held = {k: v for k, v in results.items() if not v["outside_bar"]}
    over = sorted((k for k, v in held.items() if v["p95_ms"] >= BAR_MS or v["status"] >= 400))
    return {
        "database": args.database,
        "user": args.user,
        "messages": messages,
        "label": args.label,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_avg": os.getloadavg(),
        "requests": args.requests,
        "warmup": args.warmup,
        "ids": {k: v for k, v in dataclasses.asdict(ids).items() if "after" not in k},
        "tables": tables,
        "routes": results,
        "bar_p95_ms": BAR_MS,
        "over_bar_or_failed": over,
        "worst_p95_ms": max((v["p95_ms"] for v in held.values()), default=None),
    }


def _print_row(name: str, r: dict[str, Any]) -> None:
    mark = (
        "" if r["outside_bar"] else (" ❌" if r["p95_ms"] >= BAR_MS or r["status"] >= 400 else "")
    )
    print(
        f"{name[:70]:70} {r['status']:>3} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f}{mark}",
        flush=True,
    )
    for statement, ms in r.get("statements_ms", {}).items():
        if ms >= 5:
            print(f"{'':8}{ms:>8.1f} ms  {statement}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dsn", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    )
    parser.add_argument("--database", required=True, help="an existing database, e.g. fm_pipe_…")
    parser.add_argument("--user", default=USER)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--only", help="only the routes whose name matches this regex")
    parser.add_argument("--statements", action="store_true", help="time each SQL statement")
    parser.add_argument("--no-setup", action="store_true", help="make no tag, note, list…")
    parser.add_argument("--label", default="", help="appended to the output file's name")
    parser.add_argument("--out", type=Path, help="the JSON file (default: bench/results/…)")
    args = parser.parse_args()
    result = asyncio.run(measure(args))
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    out = (
        args.out or RESULTS / f"web_routes_bench-{day}{'-' + args.label if args.label else ''}.json"
    )
    out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(
        f"worst p95 {result['worst_p95_ms']} ms; over the bar or failed: {result['over_bar_or_failed']}"
    )
    print(f"written to {out}")


if __name__ == "__main__":
    main()
