"""Address-header parsing: header text -> Address values, linear in the number of recipients.

Plain lists ("a@x.com, Name <b@y.com>") take a split-on-comma fast path; anything with
quotes, comments or groups goes through `email.utils.getaddresses`. The names of RFC 5322
groups (`Team: a@x, b@y;`) are read apart by `parse_groups`, with the stdlib header registry.
"""

from __future__ import annotations

from email.headerregistry import HeaderRegistry
from email.utils import getaddresses
from functools import lru_cache

from fluffymail.crm.messages.decode import decode_encoded_words
from fluffymail.crm.messages.models import Address, AddressGroup

__all__ = ["is_valid_email", "parse_address_list", "parse_groups"]

_SLOW_PATH_CHARS = frozenset('"()\\:;')
_INVALID_CHARS = frozenset(' \t\r\n<>()[],;:"\\')
_REGISTRY = HeaderRegistry()


def parse_address_list(text: str, name: str, problems: list[str]) -> tuple[Address, ...]:
    """Parse a decoded (8-bit decoded, encoded-words intact) address header into Addresses.

    Args:
        text: the header value(s), already turned into str.
        name: the header name, for problem codes ("bad-address:to").
        problems: receives "bad-address:<name>" when an entry is not a valid address.
    """
    addresses, found = _parse_cached(text, name)
    problems.extend(found)
    return addresses


@lru_cache(maxsize=4096)
def _parse_cached(text: str, name: str) -> tuple[tuple[Address, ...], tuple[str, ...]]:
    """The same header text recurs across a mailbox (a thread's or a list's recipients)."""
    problems: list[str] = []
    return _parse(text, name, problems), tuple(problems)


@lru_cache(maxsize=1024)
def parse_groups(text: str, name: str) -> tuple[AddressGroup, ...]:
    """The named groups with members in an address header (`Team: a@x, b@y;`), in order.

    Members are normalised as `make_address` does, so they match the header's recipients. An
    empty group (`undisclosed-recipients:;`) hides its recipients and is no group; a header
    the stdlib cannot read yields none (parsing never raises).
    """
    if ":" not in text or ";" not in text:
        return ()
    try:
        parsed = _REGISTRY(name, text)
    except Exception:  # a broken header has no groups we can trust
        return ()
    found: list[AddressGroup] = []
    for group in parsed.groups:
        members = tuple(dict.fromkeys(make_address(a.addr_spec).email for a in group.addresses))
        title = " ".join((group.display_name or "").split())
        if title and members:
            found.append(AddressGroup(header=name, name=title, members=members))
    return tuple(found)


def _parse(text: str, name: str, problems: list[str]) -> tuple[Address, ...]:
    if _SLOW_PATH_CHARS.isdisjoint(text):
        if "<" not in text and (bare := _parse_bare(text, name, problems)) is not None:
            return bare
        pairs = _split_simple(text)
    else:
        pairs = getaddresses([text])
    return _from_pairs(pairs, text, name, problems)


def _from_pairs(
    pairs: list[tuple[str, str]], text: str, name: str, problems: list[str]
) -> tuple[Address, ...]:
    """The addresses of (display name, address) pairs split from `text`."""
    _check_pairs(pairs, text, name, problems)
    addresses = _to_addresses(_merge_split_names(pairs), name, problems)
    if any(not a.valid for a in addresses):
        problems.append(f"bad-address:{name}")
    return addresses


def _parse_bare(text: str, name: str, problems: list[str]) -> tuple[Address, ...] | None:
    """`_parse` of a plain list of bare addresses ("a@x, b@y"), most lists in a mailbox, in one
    pass; None (and no problem recorded) when an entry has no '@': a name split off by a comma
    (see `_merge_split_names`) or an Exchange DN, which take the general path."""
    items = [item.strip() for item in text.split(",")]
    if not all(["@" in item for item in items if item]):
        return None
    while items and not items[-1]:
        items.pop()  # a trailing comma is harmless
    if "" in items:  # an empty entry ("a@x, , b@y")
        problems.append(f"bad-address:{name}")
    addresses = tuple([make_address(item) for item in items if item])
    if not all([a.valid for a in addresses]):
        problems.append(f"bad-address:{name}")
    return addresses


def _check_pairs(pairs: list[tuple[str, str]], text: str, name: str, problems: list[str]) -> None:
    """Flag empty list entries ("a@x, , b@y") and '@' in display names (a spoofing trick)."""
    while pairs and pairs[-1] == ("", ""):
        pairs.pop()  # a trailing comma is harmless
    if (
        ";" not in text and ("", "") in pairs
    ):  # groups ("undisclosed-recipients:;") parse as ("", "")
        problems.append(f"bad-address:{name}")
    if any("@" in display for display, _ in pairs):
        problems.append(f"at-in-display-name:{name}")


def _split_simple(text: str) -> list[tuple[str, str]]:
    """Split "a@x, Name <b@y>" on commas; callers guarantee no quotes, comments or groups."""
    pairs: list[tuple[str, str]] = []
    for item in text.split(","):
        display, sep, rest = item.partition("<")
        if sep:
            pairs.append((display.strip(), rest.partition(">")[0].strip()))
        else:
            pairs.append(("", item.strip()))
    return pairs


def _merge_split_names(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Rejoin Exchange-style "Last, First <dn>" names that an unquoted comma split in two."""
    merged: list[tuple[str, str]] = []
    carry = ""
    for display, email in pairs:
        if not display and email and "@" not in email and "/" not in email and " " not in email:
            carry = f"{carry}, {email}" if carry else email
            continue
        if carry and display:
            display, carry = f"{carry}, {display}", ""
        elif carry:
            merged.append(("", carry))
            carry = ""
        merged.append((display, email))
    if carry:
        merged.append(("", carry))
    return merged


def _to_addresses(
    pairs: list[tuple[str, str]], name: str, problems: list[str]
) -> tuple[Address, ...]:
    out: list[Address] = []
    for display, email in pairs:
        if not display and not email:
            continue
        if "=?" in display:
            display = decode_encoded_words(display, name, problems)
        out.append(make_address(email, display))
    return tuple(out)


@lru_cache(maxsize=8192)
def make_address(email: str, display: str = "") -> Address:
    """Build an Address: normalise the email, derive a name from Notes-style addresses."""
    clean = email.strip().rstrip(".").lower()
    display = display.strip().strip("\"'").strip()
    if not display and "/" in clean:
        display = _notes_name(email.strip())
    return Address(
        email=clean,
        name=display,
        valid=is_valid_email(clean),
        raw=email if email != clean else None,
    )


def _notes_name(email: str) -> str:
    """The person part of "Phillip K Allen/HOU/ECT@ECT"; '' for Exchange DNs ("/O=ENRON/...")."""
    head = email.split("/", 1)[0].strip()
    return head if head and "=" not in head and "@" not in head else ""


def is_valid_email(email: str) -> bool:
    """Cheap syntax check: one '@', non-empty local part, dotted domain, no spaces or brackets."""
    local, sep, domain = email.partition("@")
    if not sep or not local or "@" in domain or "." not in domain:
        return False
    if domain.startswith(".") or domain.endswith(".") or ".." in domain:
        return False
    return _INVALID_CHARS.isdisjoint(email)
