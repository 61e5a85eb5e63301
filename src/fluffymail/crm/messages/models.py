"""Value types for parsed email: Address, ParsedMessage and the RawMail a reader yields.

Pure data: imports only the stdlib, so every layer may depend on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["Address", "AddressGroup", "ParsedMessage", "RawMail"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Address:
    """One mailbox from an address header.

    `email` is lower-cased and stripped (trailing dots removed); `raw` keeps the original
    spelling when that differed. `valid` is a cheap syntax check only (one `@`, non-empty
    local part, a dotted domain, no spaces): Lotus Notes names and Exchange DNs are kept
    with `valid=False` so their display names are not lost.
    """

    email: str
    name: str = ""
    valid: bool = True
    raw: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AddressGroup:
    """A named RFC 5322 group in an address header (`To: Team: a@x.com, b@y.com;`).

    Its members are also in the header's recipients (they are real people); the group only
    records the name they were sent under. An empty group (`undisclosed-recipients:;`) is none.
    """

    header: str  # "to", "cc" or "bcc"
    name: str
    members: tuple[str, ...]  # lower-cased emails, as in Address.email


@dataclass(frozen=True, slots=True, kw_only=True)
class RawMail:
    """One undecoded message as a mailbox reader found it.

    `folder` is the mailbox folder ("inbox", "sent", "a/b"); `source_id` identifies the
    message within its file or Maildir (mbox: "<file name>:<byte offset>", Maildir: the
    unique file name); `path` is the file it came from.
    """

    folder: str
    source_id: str
    raw: bytes
    path: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedMessage:
    """Everything later layers need from one message, decoded once.

    `problems` holds short machine-readable codes ("missing-header:from",
    "bad-charset:x-unknown", "broken-mime:StartBoundaryNotFoundDefect", ...). Parsing never
    raises; a message that could not be parsed at all carries "parse-error:<ExcType>".
    """

    message_id: str | None = None
    from_: Address | None = None
    sender: Address | None = None
    reply_to: tuple[Address, ...] = ()
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    bcc: tuple[Address, ...] = ()
    groups: tuple[AddressGroup, ...] = ()  # named groups of To/Cc/Bcc, members also above
    date: datetime | None = None
    subject: str = ""
    snippet: str = ""
    body_text: str = ""
    list_id: str | None = None
    list_unsubscribe: str | None = None
    precedence: str | None = None
    auto_submitted: str | None = None
    return_path: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    content_type: str = "text/plain"
    x_gm_thrid: str | None = None
    bulk_signal: str | None = None  # messages.bulk: a bulk-mail sign without List-* headers
    x_from: str | None = None
    x_to: str | None = None
    x_cc: str | None = None
    x_bcc: str | None = None
    size: int = 0
    has_calendar: bool = False
    has_attachment: bool = False
    is_delivery_report: bool = False
    problems: tuple[str, ...] = ()
    fingerprint: str = ""

    @property
    def dedup_key(self) -> str:
        """The Message-ID when present, else "sha256:<content fingerprint>"."""
        return self.message_id or f"sha256:{self.fingerprint}"

    @property
    def participants(self) -> frozenset[str]:
        """Lower-cased emails of From, To and Cc (the people a thread is between)."""
        people = [a.email for a in (*self.to, *self.cc) if a.email]
        if self.from_ is not None and self.from_.email:
            people.append(self.from_.email)
        return frozenset(people)
