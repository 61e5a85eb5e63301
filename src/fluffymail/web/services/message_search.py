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
from fluffymail.web.services.messages import SQL, Conn, fetch_all

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
# A contact or company filter (from, to, any contact of a company) whose people's links number
# at least this many is checked message by message while the list walks its date order (the
# page and the capped count fill after a few thousand messages at most); a rarer one is first
# resolved into the ids of its messages (message_filter_ids.sql), which the list then reads by
# key, never walking the date index for them (it read 39,000 rows for 5,000 ids). Resolving
# the biggest company of a 1M-message mailbox (526,000 messages) took 1.2 s and its list 2 s
# (issue 19). Both ways cost about the same here: sqrt(CAP × ~1M messages) ≈ 15,000.
DENSE_USES = 15_000
# Several words that must all match (`gas price`) are estimated by PostgreSQL as if independent,
# and it walks the date order looking for the newest CAP matches; where the words are in a few
# per cent of the mail, and fewer of the newest, that walk read 50,000 wide rows (140 ms warm,
# 500 cold) where the GIN index's 12,000 matches took 33 ms (issue 19). Such a search reads
# the GIN index when PostgreSQL's own estimate puts its matches below this share of the mail
# (reading them costs about as much as walking CAP / share rows: sqrt(CAP / ~1M) ≈ 1.4 %).
SPARSE_SHARE = 0.02
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
        checks: Checks | None = None,
        big_folder: bool = False,
    ) -> dict[str, Any]:
        """The filters as SQL parameters (message_list.sql and its siblings); `ids` are those
        of the messages that pass the rare contact and company filters, None when there are
        none; `checks` the common ones, checked per message (`DENSE_USES`); `words` the words
        as message_query.sql read them, None for none; `pairs` the adjacent words every match
        holds (`phrase_pairs`), None for no such filter; `big_folder` when the folder filter's
        folders hold at least `DENSE_USES` messages (checked per message, as `checks`; a
        smaller folder's messages are in `ids`)."""
        checks = checks or Checks()
        return {
            "user_id": user_id,
            "query": words.tsquery if words else None,
            "ranking": words.ranking if words else None,
            "phrase": self.phrase,
            "rare": bool(words and words.rare),
            # read the candidates by key (the GIN index, the ids), not in date order
            "by_key": self.phrase or ids is not None or bool(words and words.by_key),
            "pair_left": [first for first, _ in pairs] if pairs else None,
            "pair_right": [second for _, second in pairs] if pairs else None,
            "ids": ids,
            "from_check": checks.from_contact,
            "to_check": checks.to_contact,
            "company_check": checks.company,
            "since": self.since,
            "until": self.until,
            "attachment": self.attachment,
            "folder": self.folder if big_folder else None,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Checks:
    """The contact and company filters that the list checks message by message (those whose
    people have much mail, `DENSE_USES`); None for a filter not given or resolved into ids."""

    from_contact: int | None = None
    to_contact: int | None = None
    company: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Words:
    """The words of a search as message_query.sql read them, as tsquery text: `tsquery` finds
    the mail, `ranking` ranks it (None: nothing to rank by), `marks` is marked in the excerpts;
    `rare` when the address words put in addresses rare enough to find through the GIN index;
    `sparse` when they are several words that must all match, in few messages (`SPARSE_SHARE`)."""

    tsquery: str
    ranking: str | None
    marks: str
    rare: bool = False
    sparse: bool = False

    @property
    def by_key(self) -> bool:
        """Whether the matches are read from the GIN index rather than in date order."""
        return self.rare or self.sparse


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
        ids, checks, big_folder = await _narrowing(conn, user_id, query)
        if ids == []:
            return MessagePage(items=(), total=0, total_capped=False, next_after=None)
        words = await read_words(conn, user_id, query.q) if query.q else None
        pairs = (phrase_pairs(words.tsquery) or None) if query.phrase and words else None
        params = query.params(user_id, ids, words, pairs, checks, big_folder)
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
    found = Words(tsquery=row["query"], ranking=row["ranking"], marks=row["marks"], rare=rare)
    if rare or conjunction(found.tsquery) < 2:
        return found
    return replace(found, sparse=await _share(conn, user_id, found.tsquery) < SPARSE_SHARE)


def conjunction(tsquery: str) -> int:
    """How many words `tsquery` (its text form) requires, when it is only words joined by AND
    (`'gas' & 'price'`); 0 for anything else (OR, NOT, a phrase, parentheses)."""
    words, position, expect_word = 0, 0, True
    while position < len(tsquery.rstrip()):
        token = _TSQUERY_TOKEN.match(tsquery, position)
        if token is None or (token.group(1) is None) == expect_word:
            return 0
        if token.group(2) not in (None, "&"):
            return 0
        words += token.group(1) is not None
        position, expect_word = token.end(), not expect_word
    return words if not expect_word else 0


async def _share(conn: Conn, user_id: int, tsquery: str) -> float:
    """PostgreSQL's estimate of the share of the user's messages that match `tsquery`."""
    rows = []
    for query in (None, tsquery):
        # never prepared: a generic plan of a prepared EXPLAIN estimates a parameter blindly
        cur = await conn.execute(
            SQL["message_estimate"], {"user_id": user_id, "query": query}, prepare=False
        )
        row = await cur.fetchone()
        assert row is not None  # EXPLAIN always answers its plan
        rows.append(float(row[0][0]["Plan"]["Plan Rows"]))
    return rows[1] / max(rows[0], 1.0)


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


async def _narrowing(
    conn: Conn, user_id: int, query: MessageQuery
) -> tuple[list[int] | None, Checks, bool]:
    """How the contact, company and folder filters apply: the ids of the messages that pass
    the rare ones (None: no such filter; [] : nothing passes), the common people filters to
    check per message, and whether the folder is one to check per message (`DENSE_USES`)."""
    ids, checks = await _people(conn, user_id, query) if query.by_people else (None, Checks())
    if not query.folder or ids == []:
        return ids, checks, False
    held = await _folder_ids(conn, user_id, query.folder)
    if held is None:
        return ids, checks, True
    return (held if ids is None else sorted(set(ids) & set(held))), checks, False


async def _people(conn: Conn, user_id: int, query: MessageQuery) -> tuple[list[int] | None, Checks]:
    """The contact and company filters: the ids of the messages that pass the rare ones (None
    when every one is common), and the common ones, to check per message (`DENSE_USES`)."""
    given = {
        "from_contact": query.from_contact,
        "to_contact": query.to_contact,
        "company": query.company,
    }
    uses = (await fetch_all(conn, "message_filter_uses", {"user_id": user_id, **given}))[0]
    common = {
        name: value
        for name, value in given.items()
        if value is not None and (uses[f"{name}_uses"] or 0) >= DENSE_USES
    }
    rare = {name: None if name in common else value for name, value in given.items()}
    checks = Checks(**common)
    if all(value is None for value in rare.values()):
        return None, checks
    found = await fetch_all(conn, "message_filter_ids", {"user_id": user_id, **rare})
    return list(found[0]["ids"]), checks


async def _folder_ids(conn: Conn, user_id: int, folder: str) -> list[int] | None:
    """The ids of the messages in the user's folders called `folder`, or None when they hold
    `DENSE_USES` or more (the list then checks the folder per message)."""
    params = {"user_id": user_id, "folder": folder, "cap": DENSE_USES}
    held = (await fetch_all(conn, "message_folder_ids", params))[0]
    return None if held["n"] >= DENSE_USES else sorted(held["ids"])


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
            "by_key": words.by_key,
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
