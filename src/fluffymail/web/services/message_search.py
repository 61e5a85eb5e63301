"""The message list and mail search: a user's messages newest first or best match first, filtered,
keyset-paged, with highlighted excerpts for the page shown; and the people who wrote about a
subject.

Every query carries the caller's user id: another user's mail, contact or company filters to
nothing. The search vector, its weights and its limits are 0025_message_search.sql's; the
queries read them from the narrow crm.message_search (0031_message_search_table.sql). The words
are read once into a tsquery (message_query.sql), an address word also finding the addresses
that hold it (address_words.py).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from psycopg_pool import AsyncConnectionPool

from fluffymail.errors import FluffyMailError
from fluffymail.web.services import address_words
from fluffymail.web.services.messages import Conn, fetch_all

# A search ranks at most the newest CAP messages that match (ranking every match of a common
# word reads them all); totals are counted up to CAP too ("200+").
CAP = 200
WRITERS_CAP = CAP  # "people who wrote about X" counts over the same newest matches
# An address word ("pnm.com") finds at most this many of the user's addresses, those with the
# most mail first: each is one more word that a message walked in date order is checked against
# (100 addresses: about 20 µs a message; BENCHMARKS.md, "Address words").
ADDRESSES_CAP = 100
# PostgreSQL estimates an address like a word of unknown frequency, far more common than it is,
# and walks the date index looking for matches it would read from the GIN index in a tenth of
# the time. When every match must hold addresses in at most about this many messages (their
# people's link counts, `rare_addresses`), the search reads the GIN index (message_list.sql):
# in a million messages, reading 20,000 matches costs about what walking the date index to the
# newest 200 of them does (10,000 messages, each checked against up to 100 addresses).
RARE_USES = 20_000
# ts_headline marks the matched words with two private-use characters (never in mail text that
# matters), so the excerpt can be escaped as text and the marks turned into <mark> afterwards.
START, STOP = "\ue000", "\ue001"
HEADLINE_OPTIONS = (
    f"StartSel={START}, StopSel={STOP}, MaxWords=24, MinWords=10, MaxFragments=2, "
    'FragmentDelimiter=" … "'
)
SUBJECT_OPTIONS = f"HighlightAll=true, StartSel={START}, StopSel={STOP}"


class BadCursor(FluffyMailError):
    """The `after` cursor is not one this list gave out; start again from the first page."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageQuery:
    """What the list shows; every filter is optional. `sort` is "relevance" (best match first,
    only with `q`) or "date" (newest first, undated mail last)."""

    q: str | None = None
    from_contact: int | None = None
    to_contact: int | None = None
    company: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    attachment: bool | None = None
    folder: str | None = None
    sort: str = "relevance"
    limit: int = 50
    after: str | None = None

    @property
    def ranked(self) -> bool:
        return bool(self.q) and self.sort == "relevance"

    @property
    def by_people(self) -> bool:
        """Whether a contact or company filter applies (message_filter_ids.sql)."""
        return any(x is not None for x in (self.from_contact, self.to_contact, self.company))

    @property
    def phrase(self) -> bool:
        return '"' in (self.q or "")  # websearch syntax: a quoted phrase

    def params(
        self,
        user_id: int,
        ids: list[int] | None,
        words: Words | None = None,
        pairs: list[tuple[str, str]] | None = None,
    ) -> dict[str, Any]:
        """The filters as SQL parameters (message_list.sql and its siblings); `ids` are those
        of the messages that pass the contact and company filters, None when there are none;
        `words` the words as message_query.sql read them, None for none; `pairs` the adjacent
        words every match holds (`phrase_pairs`), None for no such filter."""
        return {
            "user_id": user_id,
            "query": words.tsquery if words else None,
            "ranking": words.ranking if words else None,
            "phrase": self.phrase,
            "rare": bool(words and words.rare),
            "pair_left": [first for first, _ in pairs] if pairs else None,
            "pair_right": [second for _, second in pairs] if pairs else None,
            "ids": ids,
            "since": self.since,
            "until": self.until,
            "attachment": self.attachment,
            "folder": self.folder,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Words:
    """The words of a search as message_query.sql read them, as tsquery text: `tsquery` finds
    the mail, `ranking` ranks it (None: nothing to rank by), `marks` is marked in the excerpts;
    `rare` when the address words put in addresses rare enough to find through the GIN index."""

    tsquery: str
    ranking: str | None
    marks: str
    rare: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Fragment:
    """A piece of an excerpt: `hit` when it is one of the searched words."""

    text: str
    hit: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageItem:
    id: int
    date: datetime | None
    subject: str
    snippet: str
    from_address: str | None
    from_name: str | None
    thread_id: int | None
    has_attachment: bool
    recipients: str
    rank: float | None = None
    headline: tuple[Fragment, ...] = ()
    subject_marked: tuple[Fragment, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class MessagePage:
    """One page; `total` counts matches up to `CAP` (`total_capped` when there are more)."""

    items: tuple[MessageItem, ...]
    total: int
    total_capped: bool
    next_after: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Writer:
    """A contact who wrote about the searched words: how many such messages, the latest when."""

    id: int
    name: str
    primary_address: str
    company_name: str | None
    messages: int
    last_on: datetime | None


def has_words(text: str) -> bool:
    """Whether `text` holds anything to search for (punctuation alone makes an empty query)."""
    return any(ch.isalnum() for ch in text)


async def list_messages(
    pool: AsyncConnectionPool, user_id: int, query: MessageQuery
) -> MessagePage:
    """One page of the user's messages matching `query`; `BadCursor` for a foreign `after`."""
    cursor = decode_cursor(query.after, ranked=query.ranked)
    if query.q is not None and not has_words(query.q):
        return MessagePage(items=(), total=0, total_capped=False, next_after=None)
    async with pool.connection() as conn:
        ids = await _filter_ids(conn, user_id, query) if query.by_people else None
        if ids == []:
            return MessagePage(items=(), total=0, total_capped=False, next_after=None)
        words = await read_words(conn, user_id, query.q) if query.q else None
        pairs = (phrase_pairs(words.tsquery) or None) if query.phrase and words else None
        params = query.params(user_id, ids, words, pairs)
        if query.ranked:
            rows = await _ranked(conn, params, query, cursor)
        else:
            rows = await _by_date(conn, params, query, cursor)
        more = len(rows) > query.limit
        items = [_item(row) for row in rows[: query.limit]]
        if words and items:
            items = await _with_headlines(conn, user_id, words.marks, items)
        if rows and "matched" in rows[0]:  # the ranked search counted its matches
            total = int(rows[0]["matched"])
        else:
            counted = await fetch_all(conn, "message_count", {**params, "cap": CAP + 1})
            total = int(counted[0]["total"])
    last = items[-1] if more else None
    return MessagePage(
        items=tuple(items),
        total=min(total, CAP),
        total_capped=total > CAP,
        next_after=encode_cursor(last, ranked=query.ranked) if last else None,
    )


# A tsquery as PostgreSQL prints it: quoted lexemes ('' for a quote inside), operators.
_TSQUERY_TOKEN = re.compile(r"\s*(?:'((?:[^']|'')*)'|(<->|<\d+>|&|\||!|\(|\)))")


def phrase_pairs(tsquery: str) -> list[tuple[str, str]] | None:
    """The pairs of adjacent words (`'a' <-> 'b'`) that every message matching `tsquery` (its
    text form) holds, or None when that is not certain: only for words and phrases joined by
    AND (an OR gives None; a negated word joins no pair). A part in parentheses (an address
    word or its addresses, message_query.sql; a negated phrase) gives no pair, inside or across."""
    pairs: list[tuple[str, str]] = []
    previous: str | None = None  # the last word, while the next operator may chain it
    operator, negated, position, depth = "&", False, 0, 0
    while position < len(tsquery.rstrip()):
        token = _TSQUERY_TOKEN.match(tsquery, position)
        if token is None or depth < 0 or (token.group(2) == "|" and not depth):
            return None
        position = token.end()
        if depth or token.group(2) in ("(", ")"):
            depth += {"(": 1, ")": -1}.get(token.group(2) or "", 0)
            previous, negated = None, False
        elif token.group(2) == "!":
            negated = True
        elif token.group(2) is not None:
            operator = token.group(2)
        else:
            word = token.group(1).replace("''", "'")
            if operator == "<->" and previous is not None and not negated:
                pairs.append((previous, word))
            previous = None if negated else word
            negated = False
    return pairs if depth == 0 else None


async def read_words(conn: Conn, user_id: int, q: str) -> Words:
    """`q` (websearch syntax) as the search runs it: each address word of it ("pnm.com",
    "jeff.dasovich") also finds the user's addresses that hold it."""
    words = address_words.address_words(q)
    params = {
        "user_id": user_id,
        "q": q,
        "words": [w.word for w in words],
        "fragments": [w.fragment for w in words],
        "patterns": [w.pattern for w in words],
        "cap": ADDRESSES_CAP,
    }
    row = (await fetch_all(conn, "message_query", params))[0]
    rare = rare_addresses(address_words.joined(q), words, row["uses"])
    return Words(tsquery=row["query"], ranking=row["ranking"], marks=row["marks"], rare=rare)


def rare_addresses(
    joined: address_words.Joined, words: list[address_words.AddressWord], uses: list[int | None]
) -> bool:
    """Whether every match holds addresses in at most RARE_USES messages (`uses`: each word's,
    None when it found none): address words alone, all of them together; joined to other
    words by AND, any one not negated. An OR with other words may match anything."""
    found = [(w, n) for w, n in zip(words, uses, strict=True) if n is not None]
    if joined is address_words.Joined.ALONE:
        return bool(found) and sum(n for _, n in found) <= RARE_USES
    if joined is address_words.Joined.AND:
        return any(n <= RARE_USES for w, n in found if not w.negated)
    return False


async def _filter_ids(conn: Conn, user_id: int, query: MessageQuery) -> list[int]:
    params = {
        "user_id": user_id,
        "from_contact": query.from_contact,
        "to_contact": query.to_contact,
        "company": query.company,
    }
    return list((await fetch_all(conn, "message_filter_ids", params))[0]["ids"])


async def _ranked(
    conn: Conn, filters: dict[str, Any], query: MessageQuery, cursor: tuple[Any, ...] | None
) -> list[dict[str, Any]]:
    params = {
        **filters,
        "cap": CAP,
        "limit": query.limit + 1,
        "after_rank": cursor[0] if cursor else None,
        "after_id": cursor[1] if cursor else None,
    }
    return await fetch_all(conn, "message_search", params)


async def _by_date(
    conn: Conn, filters: dict[str, Any], query: MessageQuery, cursor: tuple[Any, ...] | None
) -> list[dict[str, Any]]:
    """Dated mail in keyset order, then (once it runs out) the undated mail."""
    after_date, after_id = cursor if cursor else (None, None)
    base = {**filters, "limit": query.limit + 1}
    rows: list[dict[str, Any]] = []
    if not (cursor and after_date is None):  # not yet in the undated part
        params = {**base, "undated": False, "after_date": after_date, "after_id": after_id}
        rows = await fetch_all(conn, "message_list", params)
        after_id = None
    if len(rows) <= query.limit:
        params = {
            **base,
            "limit": query.limit + 1 - len(rows),
            "undated": True,
            "after_date": None,
            "after_id": after_id,
        }
        rows += await fetch_all(conn, "message_list", params)
    return rows


def _item(row: dict[str, Any]) -> MessageItem:
    return MessageItem(
        id=row["id"],
        date=row["date"],
        subject=row["subject"],
        snippet=row["snippet"],
        from_address=row["from_address"],
        from_name=row["from_name"],
        thread_id=row["thread_id"],
        has_attachment=row["has_attachment"],
        recipients=row["recipients"],
        rank=row.get("rank"),
    )


async def _with_headlines(
    conn: Conn, user_id: int, marks: str, items: list[MessageItem]
) -> list[MessageItem]:
    """The page's items with their highlighted body excerpt and subject (this page only)."""
    params = {
        "user_id": user_id,
        "marks": marks,
        "ids": [i.id for i in items],
        "options": HEADLINE_OPTIONS,
        "subject_options": SUBJECT_OPTIONS,
    }
    found = {row["id"]: row for row in await fetch_all(conn, "message_headlines", params)}
    return [
        replace(
            item,
            headline=fragments(found[item.id]["headline"]) if item.id in found else (),
            subject_marked=fragments(found[item.id]["subject"]) if item.id in found else (),
        )
        for item in items
    ]


def fragments(marked: str) -> tuple[Fragment, ...]:
    """Split ts_headline's output at its marks: plain text and matched words, in order."""
    pieces: list[Fragment] = []
    for i, part in enumerate(marked.split(START)):
        hit, _, rest = part.partition(STOP) if i else ("", "", part)
        if hit:
            pieces.append(Fragment(text=hit, hit=True))
        if rest:
            pieces.append(Fragment(text=rest.replace(STOP, "")))
    return tuple(pieces)


def encode_cursor(item: MessageItem, *, ranked: bool) -> str:
    """The keyset position after `item`: (rank, id) when ranked, else (date, id)."""
    if ranked:
        key: list[Any] = ["r", item.rank, item.id]
    else:
        key = ["d", item.date.isoformat() if item.date else None, item.id]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(text: str | None, *, ranked: bool) -> tuple[Any, ...] | None:
    """The position `encode_cursor` wrote; `BadCursor` for anything else (or the other order's)."""
    if not text:
        return None
    try:
        kind, value, ident = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        if kind != ("r" if ranked else "d") or not isinstance(ident, int) or ident < 1:
            raise BadCursor()
        if ranked:
            return (float(value), ident)
        return (datetime.fromisoformat(value) if value is not None else None, ident)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadCursor() from exc


async def writers(pool: AsyncConnectionPool, user_id: int, q: str, limit: int = 10) -> list[Writer]:
    """The contacts who wrote the user's newest messages about `q`, most such messages first."""
    if not has_words(q):
        return []
    async with pool.connection() as conn:
        words = await read_words(conn, user_id, q)
        params = {
            "user_id": user_id,
            "query": words.tsquery,
            "rare": words.rare,
            "cap": WRITERS_CAP,
            "limit": limit,
        }
        rows = await fetch_all(conn, "message_writers", params)
    return [Writer(**row) for row in rows]


async def folder_names(pool: AsyncConnectionPool, user_id: int) -> list[str]:
    """The user's folder names, for the folder filter."""
    async with pool.connection() as conn:
        rows = await fetch_all(conn, "message_folder_names", {"user_id": user_id})
    return [row["name"] for row in rows]
