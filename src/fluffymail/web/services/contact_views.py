"""What the contacts pages and API show, built from the rows of `web/sql/contact_*.sql`:
list items, the contact detail (score evidence, stats, summary, enrichment, merges) and
timeline items. Pure functions over rows; no database access here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fluffymail.crm.relationships import figures as figures_mod
from fluffymail.crm.relationships.figures import Figures
from fluffymail.web.services.messages import MessageRef, message_ids

Row = Mapping[str, Any]
PICTURE_FIELDS = frozenset({"gravatar"})


@dataclass(frozen=True, slots=True, kw_only=True)
class CompanyRef:
    id: int
    name: str
    domain: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactItem:
    id: int
    name: str
    primary_address: str
    company: CompanyRef | None
    is_internal: bool
    score: float | None
    level: str
    trend: str | None
    going_cold: bool
    last_interaction_on: datetime | None
    first_interaction_on: datetime | None
    sent: int | None  # figures.sent: None while updating
    received: int | None
    figures: Figures = figures_mod.UPDATING

    @property
    def label(self) -> str:
        return self.name or self.primary_address

    @property
    def updating(self) -> bool:
        return self.figures.updating


@dataclass(frozen=True, slots=True, kw_only=True)
class Address:
    address: str
    is_primary: bool
    undeliverable: bool
    sent_for_you: int = 0  # a delegate's messages from the user's sent folders


@dataclass(frozen=True, slots=True, kw_only=True)
class Fact:
    field: str
    value: str
    kind: str
    source: str
    confidence: float
    observed_on: datetime
    is_current: bool
    source_message: MessageRef | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    text: str
    messages: tuple[MessageRef, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Month:
    month: str
    sent: int
    received: int

    @property
    def total(self) -> int:
        return self.sent + self.received


@dataclass(frozen=True, slots=True, kw_only=True)
class Stats:
    sent: int
    received: int
    two_way_threads: int
    direct: int | None = None
    cc: int | None = None
    replies_sent: int | None = None
    replies_received: int | None = None
    median_reply_sent_seconds: float | None = None
    median_reply_received_seconds: float | None = None
    first_at: datetime | None = None
    last_at: datetime | None = None
    monthly: tuple[Month, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Relationship:
    score: float
    level: str
    trend: str
    going_cold: bool
    computed_on: datetime
    evidence: tuple[Evidence, ...]
    stats: Stats


@dataclass(frozen=True, slots=True, kw_only=True)
class SummaryView:
    status: str
    generated_by: str
    ai_generated: bool
    who: str | None
    discussed: str | None
    open_loops: tuple[str, ...]
    next_step: str | None
    citations: tuple[MessageRef, ...]
    error: str | None
    created_on: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Introduction:
    introducer: str
    introducer_contact_id: int | None
    introducer_name: str | None
    introduced_on: datetime | None
    message: MessageRef | None
    is_self: bool = False  # the user met them directly


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeView:
    id: int
    into_contact_id: int
    from_contact_id: int
    other_label: str
    addresses: tuple[str, ...]
    reason: str
    actor: str
    merged_on: datetime
    unmerged_on: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactDetail:
    id: int
    name: str
    primary_address: str
    company: CompanyRef | None
    is_internal: bool
    merged_into_id: int | None
    first_interaction_on: datetime | None
    last_interaction_on: datetime | None
    sent: int | None  # figures.sent: None while updating
    received: int | None
    addresses: tuple[Address, ...]
    facts: tuple[Fact, ...]
    relationship: Relationship | None
    summary: SummaryView | None
    introduction: Introduction | None
    merges: tuple[MergeView, ...]
    paths_in: tuple[Any, ...] | None = None  # crm.relationships.network.PathIn
    warm_intros: tuple[Any, ...] | None = None  # crm.relationships.network.IntroPath
    figures: Figures = figures_mod.UPDATING
    connector_figures: Mapping[int, Figures] = field(default_factory=dict)

    @property
    def updating(self) -> bool:
        return self.figures.updating

    hidden: str | None = None  # 'user' (hidden by hand), 'not_person', or another suppression
    name_source: str = "mail"  # 'you' when the user named them

    @property
    def label(self) -> str:
        return self.name or self.primary_address

    @property
    def current_facts(self) -> list[Fact]:
        """The facts the page shows: current ones, without picture URLs (a Gravatar URL is a
        guess at a picture, not something known about the person, and loading it would tell
        Gravatar whom the user is looking at; the page shows initials instead) and without a
        value the user cleared."""
        return [f for f in self.facts if f.is_current and f.value and f.field not in PICTURE_FIELDS]

    def current(self, field: str) -> str:
        """The current value of `field` ('' when none), as an edit form starts from."""
        return "; ".join(f.value for f in self.facts if f.is_current and f.field == field)


@dataclass(frozen=True, slots=True, kw_only=True)
class TimelineItem:
    message_id: int
    date: datetime | None
    subject: str
    snippet: str
    from_address: str | None
    from_name: str | None
    direction: str
    roles: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class DetailRows:
    """The rows one contact page is built from (one query each)."""

    contact: Row
    addresses: list[dict[str, Any]]
    facts: list[dict[str, Any]]
    summary: Row | None
    introduction: Row | None
    merges: list[dict[str, Any]] = field(default_factory=list)

    def evidence(self) -> list[dict[str, Any]]:
        value = self.contact.get("evidence")
        return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []

    def summary_body(self) -> dict[str, Any]:
        body = (self.summary or {}).get("summary")
        return body if isinstance(body, dict) else {}

    def cited_ids(self) -> list[int]:
        """Every message id the page links to (evidence, citations, introduction)."""
        ids = [i for e in self.evidence() for i in message_ids(_list(e.get("message_ids")))]
        ids += message_ids(_list(self.summary_body().get("citations")))
        if self.introduction and self.introduction.get("message_id"):
            ids.append(int(self.introduction["message_id"]))
        return ids


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _company(row: Row) -> CompanyRef | None:
    if row.get("company_id") is None:
        return None
    return CompanyRef(
        id=row["company_id"],
        name=row.get("company_name") or "",
        domain=row.get("company_domain") or "",
    )


def figures_of(row: Row) -> Figures:
    """The row's `figures` column (crm.contact_figures), the only source of its numbers."""
    return figures_mod.from_json(row.get("figures"))


def contact_item(row: Row) -> ContactItem:
    figures = figures_of(row)
    return ContactItem(
        id=row["id"],
        name=row["name"],
        primary_address=row["primary_address"],
        company=_company(row),
        is_internal=row["is_internal"],
        score=figures.strength,
        level=figures.level or row["level"],
        trend=row["trend"],
        going_cold=row["going_cold"],
        last_interaction_on=figures.last_at,  # the figures' last contact, not the links'
        first_interaction_on=figures.first_at,
        sent=figures.sent,
        received=figures.received,
        figures=figures,
    )


def _refs(ids: Iterable[Any], refs: Mapping[int, MessageRef]) -> tuple[MessageRef, ...]:
    return tuple(refs.get(i) or MessageRef(id=i) for i in message_ids(ids))


def _seconds(value: Any) -> float | None:
    """A duration stored as seconds, `{"seconds": n}` or "HH:MM:SS"; None when absent."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dict):
        return _seconds(value.get("seconds"))
    if isinstance(value, str) and value.count(":") == 2:
        hours, minutes, secs = value.split(":")
        try:
            return timedelta(
                hours=float(hours), minutes=float(minutes), seconds=float(secs)
            ).total_seconds()
        except ValueError:
            return None
    return None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _month(value: Any) -> Month | None:
    if isinstance(value, dict) and isinstance(value.get("month"), str):
        return Month(
            month=value["month"],
            sent=_int(value.get("sent")) or 0,
            received=_int(value.get("received")) or 0,
        )
    if isinstance(value, list | tuple) and len(value) == 3 and isinstance(value[0], str):
        return Month(month=value[0], sent=_int(value[1]) or 0, received=_int(value[2]) or 0)
    return None


def stats(row: Row) -> Stats:
    """The relationship's stats: the columns, plus whatever the `stats` JSON adds."""
    extra = row.get("stats") if isinstance(row.get("stats"), dict) else {}
    extra = extra.get("stats", extra) if isinstance(extra.get("stats"), dict) else extra
    months = [m for m in (_month(v) for v in _list(extra.get("monthly"))) if m is not None]
    return Stats(
        sent=row["sent"],
        received=row["received"],
        two_way_threads=row["two_way_threads"],
        direct=_int(extra.get("direct")),
        cc=_int(extra.get("cc")),
        replies_sent=_int(extra.get("replies_sent")),
        replies_received=_int(extra.get("replies_received")),
        median_reply_sent_seconds=_seconds(
            extra.get("median_reply_sent") or extra.get("median_reply_sent_seconds")
        ),
        median_reply_received_seconds=_seconds(
            extra.get("median_reply_received") or extra.get("median_reply_received_seconds")
        ),
        first_at=row["first_at"],
        last_at=row["last_at"],
        monthly=tuple(sorted(months, key=lambda m: m.month)),
    )


def relationship(parts: DetailRows, refs: Mapping[int, MessageRef]) -> Relationship | None:
    """The stored analysis, or None when there is none or it is being redone (updating)."""
    row = parts.contact
    if row.get("score") is None or figures_of(row).updating:
        return None
    evidence = tuple(
        Evidence(text=str(e.get("text", "")), messages=_refs(_list(e.get("message_ids")), refs))
        for e in parts.evidence()
    )
    return Relationship(
        score=figures_of(row).strength or 0.0,
        level=row["level"],
        trend=row["trend"],
        going_cold=row["going_cold"],
        computed_on=row["computed_on"],
        evidence=evidence,
        stats=stats(row),
    )


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def summary(
    parts: DetailRows, refs: Mapping[int, MessageRef], extractive: str
) -> SummaryView | None:
    row = parts.summary
    if row is None:
        return None
    body = parts.summary_body()
    loops = tuple(t for t in (_text(v) for v in _list(body.get("open_loops"))) if t)
    return SummaryView(
        status=row["status"],
        generated_by=row["generated_by"],
        ai_generated=row["generated_by"] != extractive,
        who=_text(body.get("who")),
        discussed=_text(body.get("discussed")),
        open_loops=loops,
        next_step=_text(body.get("next_step")),
        citations=_refs(_list(body.get("citations")), refs),
        error=row["error"],
        created_on=row["created_on"],
    )


def introduction(row: Row | None, refs: Mapping[int, MessageRef]) -> Introduction | None:
    if row is None:
        return None
    message_id = row["message_id"]
    return Introduction(
        introducer=row["introducer"],
        introducer_contact_id=row["introducer_contact_id"],
        introducer_name=row["introducer_name"] or None,
        introduced_on=row["introduced_on"],
        message=(refs.get(message_id) or MessageRef(id=message_id)) if message_id else None,
        is_self=bool(row.get("is_self")),
    )


def fact(row: Row) -> Fact:
    source = None
    if row["message_id"] is not None:
        source = MessageRef(
            id=row["message_id"],
            subject=row["message_subject"],
            date=row["message_date"],
            found=True,
        )
    return Fact(
        field=row["field"],
        value=row["value"],
        kind=row["kind"],
        source=row["source"],
        confidence=round(float(row["confidence"]), 2),
        observed_on=row["observed_on"],
        is_current=row["is_current"],
        source_message=source,
    )


def merge_view(row: Row) -> MergeView:
    return MergeView(
        id=row["id"],
        into_contact_id=row["into_contact_id"],
        from_contact_id=row["from_contact_id"],
        other_label=row["other_label"],
        addresses=tuple(row["addresses"]),
        reason=row["reason"],
        actor=row["actor"],
        merged_on=row["merged_on"],
        unmerged_on=row["unmerged_on"],
    )


def contact_detail(
    parts: DetailRows, refs: Mapping[int, MessageRef], *, extractive: str
) -> ContactDetail:
    row = parts.contact
    figures = figures_of(row)
    return ContactDetail(
        id=row["id"],
        name=row["name"],
        primary_address=row["primary_address"],
        company=_company(row),
        is_internal=row["is_internal"],
        merged_into_id=row["merged_into_id"],
        first_interaction_on=figures.first_at,
        last_interaction_on=figures.last_at,
        sent=figures.sent,
        received=figures.received,
        addresses=tuple(Address(**a) for a in parts.addresses),
        facts=tuple(fact(f) for f in parts.facts),
        relationship=relationship(parts, refs),
        summary=summary(parts, refs, extractive),
        introduction=introduction(parts.introduction, refs),
        merges=tuple(merge_view(m) for m in parts.merges),
        figures=figures,
        hidden=row["suppressed_reason"],
        name_source=row.get("name_source", "mail"),
    )


def _direction(roles: tuple[str, ...]) -> str:
    if "received_from" in roles:
        return "received"
    return "sent" if "sent_to" in roles else "cc"


def timeline_item(row: Row) -> TimelineItem:
    roles = tuple(row["roles"])
    return TimelineItem(
        message_id=row["id"],
        date=row["date"],
        subject=row["subject"],
        snippet=row["snippet"],
        from_address=row["from_address"],
        from_name=row["from_name"],
        direction=_direction(roles),
        roles=roles,
    )
