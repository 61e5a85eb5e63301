"""More views of the same figures (QA report items 6, 7, 8, 9 and 14): the "Last interaction"
sort, the CSV exports, the companies' roll-ups, the merge preview, and the counts shown beside
a link (a tag, a company's people, a connection's contacts) against what the link shows. Each
returns `figures_check.Disagreement`s; the consistency tests assert there are none."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import datetime
from typing import Any

import httpx

from tests.integration.web.figures_check import Disagreement

Items = dict[int, dict[str, Any]]  # contact id -> its /api/contacts item


async def _pages(
    http: httpx.AsyncClient, auth: dict[str, str], path: str, **params: Any
) -> tuple[list[dict[str, Any]], int]:
    """Every item of a paged list (offset paging, `limit` per page) and its `total`."""
    items: list[dict[str, Any]] = []
    offset: int | None = 0
    total = 0
    while offset is not None:
        response = await http.get(path, params={**params, "offset": offset}, headers=auth)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        total = body["total"]
        offset = body["next_offset"]
    return items, total


def at(value: str | None) -> datetime | None:
    """An API timestamp, compared as a time (not as text)."""
    return datetime.fromisoformat(value) if value else None


async def total(http: httpx.AsyncClient, auth: dict[str, str], **params: Any) -> int:
    response = await http.get("/api/contacts", params={**params, "limit": 1}, headers=auth)
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


# -- the "Last interaction" sort (item 6) ---------------------------------------------------


def _later(after: datetime | None, before: datetime | None) -> bool:
    """Whether `after` should have come first: a date after "never", or a newer date."""
    if after is None:
        return False
    return before is None or after > before


def order_disagreements(
    view: str, ordered: list[dict[str, Any]], items: Items
) -> list[Disagreement]:
    """`ordered` lists every contact once, by the last interaction shown: newest first, "never"
    last (a contact whose figures are updating shows none, so has no place to check)."""
    found = []
    ids = [i["id"] for i in ordered]
    if len(ids) != len(set(ids)) or set(ids) != set(items):
        found.append(Disagreement(0, "rows", view, sorted(ids), sorted(items)))
    shown = [at(i["figures"]["last_at"]) for i in ordered if not i["figures"]["updating"]]
    for before, after in itertools.pairwise(shown):
        if _later(after, before):
            found.append(Disagreement(0, "last_at order", view, (before, after), "newest first"))
    return found


async def sort_disagreements(
    http: httpx.AsyncClient, auth: dict[str, str], items: Items
) -> list[Disagreement]:
    """The list by last interaction, paged 7 at a time (no gap, no repeat), and the same
    through a search that matches everyone ("@": every address)."""
    found = []
    for view, params in (
        ("sort=last_interaction", {}),
        ("sort=last_interaction&q=@", {"q": "@"}),
    ):
        ordered, _ = await _pages(
            http, auth, "/api/contacts", sort="last_interaction", limit=7, **params
        )
        found += order_disagreements(view, ordered, items)
    return found


# -- the CSV exports (item 7) ---------------------------------------------------------------


def _csv_expected(f: dict[str, Any]) -> dict[str, str]:
    if f["updating"]:
        return {"level": "updating…", "score": "", "you_sent": "", "they_sent": ""}
    return {
        "level": f["level"] or "no connection",
        "score": "" if f["strength"] is None else str(f["strength"]),
        "last_interaction": f["last_at"][:10] if f["last_at"] else "",
        "you_sent": str(f["sent"]),
        "they_sent": str(f["received"]),
    }


def csv_disagreements(view: str, text: str, items: Items) -> list[Disagreement]:
    rows = {r["email"]: r for r in csv.DictReader(io.StringIO(text))}
    found = []
    for cid, item in items.items():
        row = rows.get(item["primary_address"])
        if row is None:
            found.append(Disagreement(cid, "row", view, None, item["primary_address"]))
            continue
        for column, expected in _csv_expected(item["figures"]).items():
            if row[column] != expected:
                found.append(Disagreement(cid, column, view, row[column], expected))
    return found


async def export_disagreements(
    http: httpx.AsyncClient, auth: dict[str, str], items: Items
) -> list[Disagreement]:
    """Every contact exported (GET, streamed) and the list's ids exported (POST, a selection)."""
    every = await http.get("/api/contacts/export", params={"format": "csv"}, headers=auth)
    assert every.status_code == 200, every.text
    chosen = await http.post(
        "/api/contacts/export", json={"contact_ids": sorted(items)}, headers=auth
    )
    assert chosen.status_code == 200, chosen.text
    return csv_disagreements("CSV export", every.text, items) + csv_disagreements(
        "CSV export of a selection", chosen.text, items
    )


# -- companies (items 8 and 9) --------------------------------------------------------------


def rollup_expected(people: list[dict[str, Any]]) -> dict[str, Any]:
    """A company's figures as its people show them (those updating show none)."""
    shown = [p["figures"] for p in people if not p["figures"]["updating"]]
    firsts = [at(f["first_at"]) for f in shown if f["first_at"]]
    lasts = [at(f["last_at"]) for f in shown if f["last_at"]]
    return {
        "people": len(people),
        "sent": sum(f["sent"] for f in shown),
        "received": sum(f["received"] for f in shown),
        "first_interaction_on": min(firsts) if firsts else None,
        "last_interaction_on": max(lasts) if lasts else None,
    }


async def company_disagreements(
    http: httpx.AsyncClient, auth: dict[str, str]
) -> list[Disagreement]:
    """Each company's page and list row against its people in the contacts list (?company_id=,
    what "All N in contacts" opens)."""
    found = []
    companies, _ = await _pages(http, auth, "/api/companies", limit=100)
    for company in companies:
        cid = company["id"]
        people, _ = await _pages(http, auth, "/api/contacts", company_id=cid, limit=200)
        expected = rollup_expected(people)
        detail = await http.get(f"/api/companies/{cid}", headers=auth)
        assert detail.status_code == 200, detail.text
        rollup = detail.json()["rollup"]
        for name in ("first_interaction_on", "last_interaction_on"):
            rollup[name], company[name] = at(rollup[name]), at(company.get(name))
        for name, value in expected.items():
            if rollup[name] != value:
                found.append(Disagreement(cid, name, "company page", rollup[name], value))
        listed = {
            "people": expected["people"],
            "last_interaction_on": expected["last_interaction_on"],
        }
        for name, value in listed.items():
            if company[name] != value:
                found.append(Disagreement(cid, name, "companies list", company[name], value))
        shown = {p["id"] for p in detail.json()["people"]}
        if shown != {p["id"] for p in people}:
            found.append(Disagreement(cid, "people", "company page", sorted(shown), people))
    return found


# -- the merge preview (item 14) ------------------------------------------------------------


async def merge_preview_disagreements(
    http: httpx.AsyncClient, auth: dict[str, str], items: Items
) -> list[Disagreement]:
    """Each contact previewed as a merge with the next one: both sides' numbers are theirs."""
    found = []
    ids = sorted(items)
    for into, other in zip(ids, ids[1:] + ids[:1], strict=True):
        if into == other:
            continue
        response = await http.post(
            f"/api/contacts/{into}/merge/preview", json={"other_contact_id": other}, headers=auth
        )
        assert response.status_code == 200, response.text
        preview = response.json()
        for side in ("into", "other"):
            shown, f = preview[side], items[preview[side]["id"]]["figures"]
            expected = {
                "sent": f["sent"],
                "received": f["received"],
                "last_interaction_on": at(f["last_at"]),
            }
            if f["updating"]:
                expected["updating"] = True
            shown = {**shown, "last_interaction_on": at(shown["last_interaction_on"])}
            for name, value in expected.items():
                if shown.get(name) != value:
                    found.append(
                        Disagreement(shown["id"], name, "merge preview", shown.get(name), value)
                    )
        moving = items[other]["figures"]
        if preview["messages"] != moving["messages"]:
            found.append(
                Disagreement(
                    other, "messages", "merge preview", preview["messages"], moving["messages"]
                )
            )
    return found


# -- counts beside a link (item 9) ----------------------------------------------------------


async def count_disagreements(http: httpx.AsyncClient, auth: dict[str, str]) -> list[Disagreement]:
    """A tag's count against the list it filters; a connection's "N people … are contacts"
    against the contacts list (when it is the only connection, that is every contact)."""
    found = []
    tags = await http.get("/api/tags", headers=auth)
    assert tags.status_code == 200, tags.text
    for tag in tags.json():
        listed = await total(http, auth, tag=tag["id"])
        if tag["contacts"] != listed:
            found.append(
                Disagreement(0, f"tag {tag['name']}", "tag count", tag["contacts"], listed)
            )
    connections = await http.get("/api/connections", headers=auth)
    assert connections.status_code == 200, connections.text
    if len(connections.json()) == 1:
        connection_id = connections.json()[0]["id"]
        people = await http.get(f"/api/connections/{connection_id}/people", headers=auth)
        assert people.status_code == 200, people.text
        contacts = people.json()["summary"]["contacts"]
        if contacts != (listed := await total(http, auth)):
            found.append(Disagreement(0, "contacts", "connection card", contacts, listed))
    return found


async def disagreements(
    http: httpx.AsyncClient, auth: dict[str, str], items: Items
) -> list[Disagreement]:
    return (
        await sort_disagreements(http, auth, items)
        + await export_disagreements(http, auth, items)
        + await company_disagreements(http, auth)
        + await merge_preview_disagreements(http, auth, items)
        + await count_disagreements(http, auth)
    )


async def seed_counts(http: httpx.AsyncClient, auth: dict[str, str], items: Items) -> None:
    """QA's case: a tag on two people, a group and a contact then hidden (the tag's list
    shows the one person left)."""
    tag = await http.post("/api/tags", json={"name": "Investors"}, headers=auth)
    assert tag.status_code == 201, tag.text
    groups = await http.get("/api/groups", headers=auth)
    assert groups.status_code == 200, groups.text
    people = sorted(items)[:2]
    chosen = people + [g["id"] for g in groups.json()[:1]]
    tagged = await http.post(
        "/api/contacts/bulk",
        json={"action": "tag", "tag_id": tag.json()["id"], "contact_ids": chosen},
        headers=auth,
    )
    assert tagged.status_code == 200, tagged.text
    hidden = await http.post(
        f"/api/contacts/{people[1]}/visibility", json={"state": "hidden"}, headers=auth
    )
    assert hidden.status_code == 200, hidden.text
