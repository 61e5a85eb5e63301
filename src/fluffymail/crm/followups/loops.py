"""Open loops in a message's own text (quotes and signature dropped): a question put to the
reader, a promise the writer made. Plain rules on sentence shape, no names of anyone; their
precision and recall on held-out senders are measured by bench/eval_followups.py."""

from __future__ import annotations

import re
from datetime import timedelta

from fluffymail.crm.relationships import extractive

__all__ = [
    "PROMISE_DUE",
    "QUESTION_DUE",
    "is_promise",
    "is_question",
    "promise_in",
    "question_in",
    "sentences",
]

QUESTION_DUE = timedelta(days=2)  # an unanswered question is due two days after it came
PROMISE_DUE = timedelta(days=3)  # a promise with no later message from you, three days on
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_PARAGRAPH = re.compile(r"\n\s*\n")
_TO_READER = re.compile(
    r"\b(you|your|yours|u)\b|^(?:[\w']+(?: [\w']+){0,2}, )?(can|could|would|will|do|does|did|are|"
    r"is|have|has|when|what|where|who|how|why|should|shall|any|may)\b",
    re.I,
)
_SMALL_TALK = re.compile(
    r"^(hi|hey|hello)?[ ,]*(how are (you|things)|how's it going|how (was|is) your (weekend|"
    r"trip|day|holiday|vacation)|what's up|you there|right|ok|okay|huh|no|yes|really)\b",
    re.I,
)
_COMMITMENT = re.compile(
    r"\b(i will|i'll|i’ll|we will|we'll|we’ll|let me|i am going to|i'm going to|i’m going to|"
    r"we are going to|i shall|i promise to)\s+(?:\w+\s+){0,2}?"
    r"(send|get back|follow up|call|check|look into|take a look|forward|e-?mail|confirm|find out|"
    r"let you know|share|review|update|circle back|put together|set up|schedule|ping|reach out|"
    r"write|draft|prepare|pass|get you|get it|get that|get the|give you|loop)\b",
    re.I,
)
_NOT_A_PROMISE = re.compile(r"\b(if you|unless|would you|could you|can you)\b", re.I)


def _sentences(body: str) -> list[str]:
    """Sentences within paragraphs: mail wraps lines at ~72 characters, so a line break alone
    does not end a sentence (a greeting line joins the next: "Hi Sam, Could you …?")."""
    found = []
    for paragraph in _PARAGRAPH.split(extractive.own_text(body)):
        flat = " ".join(paragraph.split())
        found += [s for s in _SENTENCE.split(flat) if s]
    return found


def sentences(body: str) -> list[str]:
    """The sentences of the message's own text (quotes and signature dropped)."""
    return _sentences(body)


def is_question(sentence: str) -> bool:
    """A question put to the reader: ends with "?", three words or more, addressed to them
    (you / your, or opening with an auxiliary or wh-word), and not small talk."""
    if not sentence.endswith("?") or len(sentence.split()) < 3:
        return False
    return bool(_TO_READER.search(sentence)) and not _SMALL_TALK.match(sentence)


def is_promise(sentence: str) -> bool:
    """A commitment: "I'll / I will / let me / we will …" followed closely by an action verb,
    not a question and not conditional."""
    if sentence.endswith("?") or _NOT_A_PROMISE.search(sentence):
        return False
    return bool(_COMMITMENT.search(sentence))


def question_in(body: str) -> str | None:
    """The last question in the text that asks the reader something, or None."""
    return next((s for s in reversed(_sentences(body)) if is_question(s)), None)


def promise_in(body: str) -> str | None:
    """The last sentence in which the writer commits to doing something, or None."""
    return next((s for s in reversed(_sentences(body)) if is_promise(s)), None)
