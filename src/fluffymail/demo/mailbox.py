"""The demo's sample mailbox: a few hundred invented but lifelike messages, written as an mbox.

Everyone in it is made up (fictional names, reserved 555-01xx phone numbers). The mail is
shaped to show what FluffyMail does: close two-way relationships next to one-way cold
outreach and newsletters, a relationship that is warming and one going cold, people only
ever on Cc, an introduction by a colleague, signatures with titles and phone numbers, and
threads with quoted replies. Dates are relative to `now`, so the demo always looks current;
the same `now` and seed give the same file.
"""

from __future__ import annotations

import mailbox
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path

__all__ = ["OWNER", "Person", "messages", "write_mbox"]


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    email: str
    title: str = ""
    company: str = ""
    phone: str = ""

    @property
    def first(self) -> str:
        return self.name.split()[0]

    @property
    def header(self) -> str:
        return formataddr((self.name, self.email))

    def signature(self) -> str:
        lines = [self.name, *(part for part in (self.title, self.company) if part)]
        if self.phone:
            lines.append(f"Mobile: {self.phone}")
        if "@" in self.email and self.company:
            lines.append(f"https://www.{self.email.split('@', 1)[1]}")
        return "--\n" + "\n".join(lines)


OWNER = Person(
    "Dana Whitfield", "dana@brightlane.io", "Head of Partnerships", "Brightlane", "+1 415 555 0100"
)
SAM = Person("Sam Okafor", "sam@brightlane.io", "CTO", "Brightlane", "+1 415 555 0101")
PRIYA = Person(
    "Priya Raman", "priya@brightlane.io", "Account Executive", "Brightlane", "+1 415 555 0102"
)


@dataclass(frozen=True, slots=True)
class Pattern:
    """How one relationship unfolds: `threads` conversations between `start` and `end` days ago."""

    person: Person
    threads: int
    start: int
    end: int
    they_start: float = 0.5  # share of threads the contact opens
    they_reply: float = 0.8  # chance they answer Dana
    dana_replies: float = 0.8  # chance Dana answers them
    cc: tuple[Person, ...] = ()
    topics: tuple[str, ...] = ()


TOPICS = (
    "pilot rollout plan",
    "pricing for the enterprise tier",
    "Q3 roadmap review",
    "contract redlines",
    "security questionnaire",
    "onboarding the data team",
    "API rate limits",
    "renewal terms",
    "case study draft",
    "offsite agenda",
    "integration timeline",
    "board deck feedback",
    "support escalation",
    "hiring update",
)
ANGLES = ("", ": next steps", " follow-up", ": open questions", " (v2)", ": quick sync", " notes")
ASKS = (
    "Could you send the revised timeline by Friday?",
    "Can we move our call to Thursday afternoon?",
    "Would you share the latest numbers before the review?",
    "Do you have a few minutes this week to go through the open points?",
    "Could your team confirm the go-live date?",
)
PROMISES = (
    "I'll send the signed copy tomorrow.",
    "I will loop in our legal team today.",
    "I'll put together a short summary for your leadership.",
    "We will have the sandbox ready by Monday.",
    "I'll follow up with the pricing options this week.",
)
NOTES = (
    "Thanks for the thoughtful notes on the last draft.",
    "Good news: the team signed off on the approach.",
    "Following up on our conversation from last week.",
    "Quick update from our side before the weekend.",
    "We ran the numbers again and they hold up.",
)

PEOPLE = {
    "maya": Person(
        "Maya Lindqvist",
        "maya.lindqvist@northwindtraders.com",
        "VP Operations",
        "Northwind Traders Inc.",
        "+1 206 555 0110",
    ),
    "jonas": Person(
        "Jonas Berg",
        "jonas@northwindtraders.com",
        "Procurement Lead",
        "Northwind Traders Inc.",
        "+1 206 555 0111",
    ),
    "arjun": Person(
        "Arjun Mehta",
        "arjun.mehta@acmerobotics.io",
        "Head of Engineering",
        "Acme Robotics, Inc.",
        "+1 512 555 0120",
    ),
    "lucia": Person(
        "Lucía Fernández",
        "lucia@globexlogistics.co.uk",
        "Chief Operating Officer",
        "Globex Logistics Ltd",
        "+44 20 7946 0130",
    ),
    "tom": Person(
        "Tom Becker",
        "t.becker@globexlogistics.co.uk",
        "Finance Manager",
        "Globex Logistics Ltd",
        "+44 20 7946 0131",
    ),
    "hana": Person(
        "Hana Sato", "hana.sato@initech.com", "Product Director", "Initech Corp", "+1 650 555 0140"
    ),
    "omar": Person(
        "Omar Haddad",
        "omar@umbrellahealth.org",
        "Director of IT",
        "Umbrella Health Group",
        "+1 617 555 0150",
    ),
    "lena": Person(
        "Lena Novak",
        "lena.novak@vertexanalytics.com",
        "Founder & CEO",
        "Vertex Analytics LLC",
        "+1 303 555 0160",
    ),
    "chris": Person("Chris Doyle", "chris.doyle@gmail.com"),
    "ines": Person(
        "Inês Costa", "ines@acmerobotics.io", "Engineering Manager", "Acme Robotics, Inc."
    ),
    "rep": Person(
        "Kyle Vance",
        "kyle.vance@leadgenpros.biz",
        "Senior Growth Consultant",
        "LeadGen Pros LLC",
        "+1 702 555 0170",
    ),
    "prospect": Person(
        "Elena Petrova", "elena@stellarfoods.com", "Head of Digital", "Stellar Foods Co"
    ),
}

PATTERNS = (
    Pattern(PEOPLE["maya"], threads=34, start=330, end=2, topics=TOPICS[:6], cc=(PEOPLE["jonas"],)),
    Pattern(PEOPLE["arjun"], threads=16, start=270, end=6, they_reply=0.7, cc=(PEOPLE["ines"],)),
    Pattern(
        PEOPLE["lucia"],
        threads=22,
        start=420,
        end=120,
        they_reply=0.9,
        dana_replies=0.9,
        cc=(PEOPLE["tom"],),
    ),
    Pattern(PEOPLE["hana"], threads=9, start=30, end=1, they_start=0.7),
    Pattern(PEOPLE["omar"], threads=8, start=540, end=380),
    Pattern(
        PEOPLE["chris"],
        threads=12,
        start=360,
        end=10,
        topics=("weekend hike", "book club", "dinner next week"),
    ),
    Pattern(
        SAM,
        threads=18,
        start=300,
        end=3,
        topics=("hiring update", "Q3 roadmap review", "board deck feedback"),
    ),
    Pattern(PRIYA, threads=10, start=200, end=5, topics=("renewal terms", "case study draft")),
    Pattern(
        PEOPLE["rep"],
        threads=11,
        start=200,
        end=4,
        they_start=1.0,
        they_reply=0.0,
        dana_replies=0.0,
        topics=("boost your pipeline 10x", "quick question", "following up again"),
    ),
    Pattern(
        PEOPLE["prospect"],
        threads=4,
        start=90,
        end=20,
        they_start=0.0,
        they_reply=0.0,
        topics=("partnership idea for Stellar Foods",),
    ),
)

NEWSLETTERS = (
    ("SaaS Weekly", "digest@saasweekly.news", "<weekly.saasweekly.news>", 7, 26),
    ("Partnerships Digest", "hello@partnerdigest.com", "<digest.partnerdigest.com>", 14, 12),
)
NOTIFIER = Person("Tracker Notifications", "no-reply@trackerapp.io")


@dataclass(slots=True)
class _Writer:
    rng: random.Random
    now: datetime
    out: list[EmailMessage] = field(default_factory=list)
    serial: int = 0

    def message_id(self, sender: Person) -> str:
        self.serial += 1
        return (
            f"<demo.{self.serial:05d}.{self.rng.getrandbits(32):08x}@{sender.email.split('@')[1]}>"
        )

    def add(
        self,
        *,
        sender: Person,
        to: Sequence[Person],
        cc: Sequence[Person] = (),
        subject: str,
        body: str,
        at: datetime,
        parent: EmailMessage | None = None,
        headers: dict[str, str] | None = None,
    ) -> EmailMessage:
        msg = EmailMessage()
        _header(msg, "From", sender.header)
        _header(msg, "To", ", ".join(p.header for p in to))
        if cc:
            _header(msg, "Cc", ", ".join(p.header for p in cc))
        _header(msg, "Subject", subject)
        _header(msg, "Date", format_datetime(at))
        _header(msg, "Message-ID", self.message_id(sender))
        if parent is not None:
            _header(msg, "In-Reply-To", str(parent["Message-ID"]))
            refs = f"{parent.get('References', '')} {parent['Message-ID']}".strip()
            _header(msg, "References", refs)
        for name, value in (headers or {}).items():
            _header(msg, name, value)
        msg.set_content(body)
        self.out.append(msg)
        return msg


def _header(msg: EmailMessage, name: str, value: str) -> None:
    """Set a header; plain ASCII is stored as written (parsing every address header through
    the email package's header registry made the demo mailbox take seconds to write), and
    anything else, or too long for one line, is encoded and folded by the policy."""
    if value.isascii() and len(name) + len(value) + 2 <= 78:
        msg.set_raw(name, value)
    else:
        msg[name] = value


def _day(writer: _Writer, days_ago: float) -> datetime:
    at = writer.now - timedelta(days=days_ago)
    return at.replace(
        hour=writer.rng.randint(8, 18),
        minute=writer.rng.randint(0, 59),
        second=writer.rng.randint(0, 59),
        microsecond=0,
    )


def _body(rng: random.Random, to: Person, sender: Person, *, quote: EmailMessage | None) -> str:
    parts = [f"Hi {to.first},", "", rng.choice(NOTES)]
    if rng.random() < 0.6:
        parts.append(rng.choice(ASKS))
    if rng.random() < 0.5:
        parts.append(rng.choice(PROMISES))
    parts += ["", "Best,", sender.first, "", sender.signature()]
    if quote is not None:
        quoted = quote.get_content().strip().splitlines()[:6]
        parts += [
            "",
            f"On {quote['Date']}, {quote['From']} wrote:",
            *(f"> {line}".rstrip() for line in quoted),
        ]
    return "\n".join(parts) + "\n"


def _thread(writer: _Writer, pattern: Pattern, days_ago: float) -> None:
    rng, them = writer.rng, pattern.person
    topic = f"{rng.choice(pattern.topics or TOPICS)}{rng.choice(ANGLES)}"
    cc = tuple(p for p in pattern.cc if rng.random() < 0.35)
    sender, other = (them, OWNER) if rng.random() < pattern.they_start else (OWNER, them)
    at = _day(writer, days_ago)
    msg = writer.add(
        sender=sender,
        to=[other],
        cc=cc,
        subject=topic.capitalize(),
        body=_body(rng, other, sender, quote=None),
        at=at,
    )
    for _ in range(rng.randint(1, 4)):
        answer = pattern.they_reply if other is them else pattern.dana_replies
        if rng.random() >= answer:
            return
        at += timedelta(hours=rng.uniform(0.5, 30))
        if at > writer.now:
            return
        sender, other = other, sender
        msg = writer.add(
            sender=sender,
            to=[other],
            cc=cc,
            subject=f"Re: {topic.capitalize()}",
            body=_body(rng, other, sender, quote=msg),
            at=at,
            parent=msg,
        )


def _relationships(writer: _Writer) -> None:
    for pattern in PATTERNS:
        span = pattern.start - pattern.end
        for i in range(pattern.threads):
            _thread(writer, pattern, pattern.end + span * (1 - i / max(pattern.threads - 1, 1)))


def _introduction(writer: _Writer) -> None:
    """Sam introduces Dana to Lena; Dana and Lena take it from there."""
    lena = PEOPLE["lena"]
    at = _day(writer, 45)
    intro = writer.add(
        sender=SAM,
        to=[OWNER, lena],
        subject="Intro: Dana <> Lena (Vertex Analytics)",
        body=(
            f"Dana, meet Lena, who founded Vertex Analytics; Lena, Dana runs partnerships at "
            f"Brightlane. I think you two should talk about the analytics integration.\n\n"
            f"{SAM.signature()}\n"
        ),
        at=at,
    )
    reply = writer.add(
        sender=OWNER,
        to=[lena],
        cc=[SAM],
        subject="Re: Intro: Dana <> Lena (Vertex Analytics)",
        at=at + timedelta(hours=3),
        parent=intro,
        body=_body(writer.rng, lena, OWNER, quote=intro),
    )
    for days in (40, 31, 22, 12, 4):
        msg = writer.add(
            sender=lena,
            to=[OWNER],
            subject="Re: Analytics integration",
            at=_day(writer, days),
            parent=reply,
            body=_body(writer.rng, OWNER, lena, quote=reply),
        )
        reply = writer.add(
            sender=OWNER,
            to=[lena],
            subject="Re: Analytics integration",
            at=msg_date(msg) + timedelta(hours=writer.rng.uniform(1, 20)),
            parent=msg,
            body=_body(writer.rng, lena, OWNER, quote=msg),
        )


def msg_date(msg: EmailMessage) -> datetime:
    return msg["Date"].datetime


def _bulk(writer: _Writer) -> None:
    for name, address, list_id, every, count in NEWSLETTERS:
        sender = Person(name, address)
        for i in range(count):
            writer.add(
                sender=sender,
                to=[OWNER],
                subject=f"{name} #{120 + i}: this week in SaaS",
                at=_day(writer, 3 + i * every),
                body="The week's reading list, curated for you.\n\nUnsubscribe any time.\n",
                headers={
                    "List-Id": f"{name} {list_id}",
                    "List-Unsubscribe": f"<mailto:unsubscribe@{address.split('@')[1]}>",
                    "Precedence": "bulk",
                },
            )
    for i in range(20):
        writer.add(
            sender=NOTIFIER,
            to=[OWNER],
            subject=f"[Tracker] Ticket BL-{400 + i} updated",
            at=_day(writer, 2 + i * 9),
            body="A ticket you follow was updated.\n",
            headers={"Auto-Submitted": "auto-generated"},
        )


def messages(now: datetime, *, seed: int = 7) -> Iterator[EmailMessage]:
    """The sample mailbox's messages, oldest first (`now` must be timezone-aware)."""
    writer = _Writer(random.Random(seed), now)
    _relationships(writer)
    _introduction(writer)
    _bulk(writer)
    yield from sorted(writer.out, key=msg_date)


def write_mbox(path: Path, now: datetime, *, seed: int = 7) -> int:
    """Write the sample mailbox to `path` (replacing it atomically); returns the message count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    box = mailbox.mbox(partial)
    count = 0
    try:
        box.lock()
        for msg in messages(now, seed=seed):
            entry = mailbox.mboxMessage(msg)
            entry.set_from(msg["From"].addresses[0].addr_spec, msg_date(msg).timetuple())
            box.add(entry)
            count += 1
        box.flush()
    finally:
        box.unlock()
        box.close()
    partial.replace(path)
    return count
