"""Thread keys: which conversation a message belongs to, from one message alone (pure).

Named after the concept, not the stdlib module; import it as `messages.threading`.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from fluffymail.crm.messages.models import ParsedMessage

__all__ = ["normalize_subject", "thread_aliases", "thread_key", "thread_keys"]

_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|fw|aw|tr|antw|wg|sv|vs|rv|ref|odp)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*"
    r"|\[[^\[\]]{0,60}\]\s*)",
    re.IGNORECASE,
)


def thread_key(msg: ParsedMessage, *, provider_thread_id: str | None = None) -> str:
    """A short, stable key shared by the messages of one conversation.

    In order of trust:

    1. "prov:<id>" — the provider's own thread id (Gmail threadId), or X-GM-THRID.
    2. "ref:<id>" — the root of References (its first id), else In-Reply-To.
    3. "subj:<16 hex>" — sha1 of the normalised subject (reply/forward prefixes and
       [list tags] stripped, whitespace collapsed, lower-cased) plus the *unordered* set of
       From + To + Cc emails. Unordered, so "RE: foo" from B to A lands with "foo" from A
       to B: mailboxes such as Enron carry no In-Reply-To/References at all. The cost: a
       reply that drops or adds a recipient (reply vs reply-all) starts a new key; callers
       wanting looser grouping can merge keys on the normalised subject.

    A message with no references that starts a thread gets a "subj:" key while its
    replies get "ref:<its id>"; a store resolves that by looking the root up under every
    key in `thread_aliases(root)`.
    """
    provider = provider_thread_id or msg.x_gm_thrid
    if provider:
        return f"prov:{provider.strip()}"
    root = msg.references[0] if msg.references else msg.in_reply_to
    if root:
        return f"ref:{root}"
    return subject_key(msg)


def thread_aliases(msg: ParsedMessage) -> tuple[str, ...]:
    """Every key under which replies may refer to this message's thread."""
    return _aliases(msg, thread_key(msg))


def thread_keys(msg: ParsedMessage, *, provider_thread_id: str | None = None) -> tuple[str, ...]:
    """`thread_key` first, then the `thread_aliases` not already listed (each computed once)."""
    own = thread_key(msg)
    primary = f"prov:{provider_thread_id.strip()}" if provider_thread_id else own
    return tuple(dict.fromkeys((primary, *_aliases(msg, own))))


def _aliases(msg: ParsedMessage, own: str) -> tuple[str, ...]:
    return (own, f"ref:{msg.message_id}") if msg.message_id else (own,)


def subject_key(msg: ParsedMessage) -> str:
    """The key "subj:" + 16 hex of sha1(normalised subject, sorted participants)."""
    people = ",".join(sorted(msg.participants))
    digest = hashlib.sha1(f"{normalize_subject(msg.subject)}\x1f{people}".encode())
    return f"subj:{digest.hexdigest()[:16]}"


@lru_cache(maxsize=4096)  # a thread's messages share their subject
def normalize_subject(subject: str) -> str:
    """Strip Re:/Fwd:/FW:/AW:/TR:/Antw: (repeatedly) and [tags]; collapse spaces; lower-case."""
    text = subject
    while True:
        stripped = _REPLY_PREFIX.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    return " ".join(text.split()).lower()
