"""Extractive relationship summaries: topics, the last open question and the last commitment,
taken from the threads by plain text rules (no network, no model). Stdlib and crm models only.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from fluffymail.crm.relationships.models import Direction
from fluffymail.crm.relationships.summaries import (
    EXTRACTIVE,
    Summary,
    SummaryRequest,
    Thread,
    ThreadMessage,
)

__all__ = ["extract", "last_commitment", "open_question", "own_text", "topics"]

_QUOTE_START = re.compile(
    r"^(-{2,}\s*Original Message\s*-{2,}|On .{0,200} wrote:\s*$|From: .+)", re.I
)
_SIGNATURE_START = re.compile(r"^--\s*$")  # RFC 3676's "-- " separator (and a bare "--")
_LINK = re.compile(r"\b(?:https?://|www\.)\S+|\S+@\S+", re.I)
_WORD = re.compile(r"[a-z][a-z0-9'-]+[a-z0-9]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_COMMITMENT = re.compile(
    r"\b(i will|i'll|i’ll|we will|we'll|we’ll|let me|i am going to|i'm going to|we are going to|"
    r"i shall|i can send|will get back|i promise)\b",
    re.I,
)
_STOPWORDS = frozenset(
    """about above after again against all also and any are aren't because been before being below
    between both but can cannot could did does doing don't down during each few for from further had
    has have having her here hers herself him himself his how i'd i'll i'm i've into it's its itself
    just let's more most much must my myself no nor not now off once only other our ours ourselves
    out over own please same she should some such than thank thanks that that's the their theirs them
    themselves then there these they this those through too under until very was wasn't were what
    when where which while who whom why will with won't would you you'd you'll you're you've your
    yours yourself yourselves fwd fw re sent subject cc original message regards best hi hello dear
    get got know like make need see think want well yes okay going one two new time today tomorrow
    let will can may might shall also just sure mobile phone tel fax cell office""".split()
)


def own_text(body: str) -> str:
    """The body without quoted replies or signature: stops at "On … wrote:" / "Original Message" /
    a "-- " signature separator, drops "> " lines."""
    kept: list[str] = []
    for line in body.splitlines():
        if _QUOTE_START.match(line.strip()) or _SIGNATURE_START.match(line):
            break
        if not line.lstrip().startswith(">"):
            kept.append(line.rstrip())
    return "\n".join(kept).strip()


def extract(request: SummaryRequest, top_topics: int = 5) -> Summary:
    """Topics by term frequency, the last unanswered question from the contact, the last commitment."""
    messages = sorted(
        (m for t in request.threads for m in t.messages), key=lambda m: (m.date, m.id)
    )
    if not messages:
        raise ValueError("no messages to summarise")
    found_topics = topics(request, top_topics)
    question = open_question(request.threads)
    promise = last_commitment(messages)
    loops = [f"They asked: “{s}” (unanswered)" for _, s in filter(None, [question])]
    loops += [f"{_speaker(m)} said: “{s}”" for m, s in filter(None, [promise])]
    cited = [m.id for m, _ in filter(None, [question, promise])] + [messages[-1].id]
    return Summary(
        contact=request.contact.email,
        who=_who(request, messages),
        discussed=_discussed(found_topics, request.threads),
        open_loops=tuple(loops),
        next_step=_next_step(question, promise, messages[-1]),
        cited_message_ids=tuple(dict.fromkeys(cited)),
        generated_by=EXTRACTIVE,
        model="extractive",
        prompt_version="extractive/3",
        topics=found_topics,
    )


def topics(request: SummaryRequest, top: int) -> tuple[str, ...]:
    """The most frequent content words: each thread subject counts 3×, own body text 1×."""
    names = {
        w
        for p in (request.user, request.contact)
        for w in _WORD.findall(f"{p.name} {p.email}".lower())
    }
    counts: Counter[str] = Counter()
    for thread in request.threads:
        for word in _words(thread.subject):
            counts[word] += 3
        for m in thread.messages:
            counts.update(_words(own_text(m.body)))
    ranked = sorted((w for w in counts if w not in names), key=lambda w: (-counts[w], w))
    return tuple(ranked[:top])


def _words(text: str) -> list[str]:
    words = (w.removesuffix("'s") for w in _WORD.findall(_LINK.sub(" ", text.lower())))
    return [w for w in words if w not in _STOPWORDS and len(w) > 2 and not w.isdigit()]


def sentences(message: ThreadMessage) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(own_text(message.body)) if len(s.strip()) > 3]


def open_question(threads: Iterable[Thread]) -> tuple[ThreadMessage, str] | None:
    """The latest question from the contact with no later message from the user in its thread."""
    found: list[tuple[ThreadMessage, str]] = []
    for thread in threads:
        ordered = sorted(thread.messages, key=lambda m: (m.date, m.id))
        for n, m in enumerate(ordered):
            answered = any(later.direction is Direction.SENT for later in ordered[n + 1 :])
            if m.direction is Direction.RECEIVED and not answered:
                found += [(m, s) for s in sentences(m) if s.endswith("?")]
    return max(found, key=lambda pair: (pair[0].date, pair[0].id), default=None)


def last_commitment(messages: Sequence[ThreadMessage]) -> tuple[ThreadMessage, str] | None:
    """The latest "I will / I'll / we will / let me …" sentence from either side."""
    for m in reversed(messages):
        promises = [s for s in sentences(m) if _COMMITMENT.search(s) and not s.endswith("?")]
        if promises:
            return m, promises[-1]
    return None


def _speaker(m: ThreadMessage) -> str:
    return "You" if m.direction is Direction.SENT else "They"


def _who(request: SummaryRequest, messages: Sequence[ThreadMessage]) -> str:
    """Who, and the latest message. No counts: the summary reads only the newest mail that
    fits its budget, so its counts would disagree with the contact's figures (issue 12); the
    page shows the figures beside it from crm.contact_figures."""
    last = messages[-1]
    side = "you" if last.direction is Direction.SENT else "them"
    return f"{request.contact.label}; latest message {last.date:%-d %b %Y}, from {side}."


def _discussed(found: Sequence[str], threads: Iterable[Thread]) -> str:
    latest = max(threads, key=lambda t: t.last_date)
    about = f"Frequent topics: {', '.join(found)}. " if found else ""
    return f"{about}Latest thread: “{latest.subject}”."


def _next_step(
    question: tuple[ThreadMessage, str] | None,
    promise: tuple[ThreadMessage, str] | None,
    last: ThreadMessage,
) -> str:
    if question:
        return f"Answer their question: “{question[1]}”"
    if promise and promise[0].direction is Direction.SENT:
        return f"Follow through on: “{promise[1]}”"
    if promise:
        return f"Check whether they followed through on: “{promise[1]}”"
    if last.direction is Direction.RECEIVED:
        return f"Reply to their last message (“{last.subject}”)."
    return "Nothing pending; check in if the silence grows."
