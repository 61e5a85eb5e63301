"""Enrichment providers: a small Protocol and the built-ins that need no network.

`SignatureProvider` reads the signature block of the contact's own recent messages;
`GravatarProvider` derives an avatar URL from the address hash (no request is made). A paid
API or the AI provider plugs in by implementing `EnrichmentProvider`.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from fluffymail.crm.contacts import companies, signatures
from fluffymail.crm.contacts.repo import Fact, RecentMessage

__all__ = [
    "RECENT_MESSAGES",
    "CompanyUpdate",
    "EnrichmentProvider",
    "EnrichmentRequest",
    "GravatarProvider",
    "SignatureProvider",
    "company_update",
    "default_providers",
]

RECENT_MESSAGES = 20  # the contact's newest messages read for signatures
_CONFIDENCE = {
    "phone": 0.8,
    "title": 0.7,
    "company": 0.6,
    "website": 0.7,
    "linkedin": 0.85,
    "twitter": 0.8,
    "github": 0.85,
    "postal_address": 0.6,
}
_LABELLED_PHONE_BONUS = 0.1
_REPEAT_BONUS = 0.05  # per further message with the same value
_MAX_CONFIDENCE = 0.95


@dataclass(frozen=True, slots=True, kw_only=True)
class EnrichmentRequest:
    """What a provider may use: the contact's identity and its own recent messages."""

    contact_id: int
    primary_address: str
    name: str
    addresses: tuple[str, ...]
    company_domain: str | None
    messages: tuple[RecentMessage, ...]
    now: datetime


class EnrichmentProvider(Protocol):
    """Returns facts about a contact; `source` on each fact names the provider or 'signature'."""

    name: str

    async def enrich(self, request: EnrichmentRequest) -> Sequence[Fact]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SignatureProvider:
    """Phones (E.164), title, company, website, LinkedIn / X / GitHub, postal address."""

    name: str = "signature"
    default_region: str = "US"

    async def enrich(self, request: EnrichmentRequest) -> Sequence[Fact]:
        found: list[tuple[RecentMessage, str, str, str, float]] = []
        for message in request.messages:
            found += self._from_message(message)
        repeats = Counter((f, v) for _, f, v, _, _ in found)
        return [
            Fact(
                field=field,
                value=value,
                kind=kind,
                source=self.name,
                source_message_id=message.id,
                confidence=min(_MAX_CONFIDENCE, base + _REPEAT_BONUS * (repeats[field, value] - 1)),
                observed_on=message.date or request.now,
            )
            for message, field, value, kind, base in found
        ]

    def _from_message(
        self, message: RecentMessage
    ) -> list[tuple[RecentMessage, str, str, str, float]]:
        signature = signatures.extract_signature(
            message.body_text,
            message.from_name or None,
            sender_email=message.from_address,
            default_region=self.default_region,
        )
        if signature is None:
            return []
        out = [
            (
                message,
                "phone",
                phone.e164,
                str(phone.kind),
                _CONFIDENCE["phone"] + (_LABELLED_PHONE_BONUS if phone.kind != "unknown" else 0.0),
            )
            for phone in signature.phones
        ]
        for field in (
            "title",
            "company",
            "website",
            "linkedin",
            "twitter",
            "github",
            "postal_address",
        ):
            value = getattr(signature, field)
            if value:
                out.append((message, field, value.strip()[:500], "", _CONFIDENCE[field]))
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class GravatarProvider:
    """The Gravatar URL of the primary address (SHA-256 of the trimmed, lower-cased address).

    `d=404` makes Gravatar answer 404 when no image exists, so the UI can fall back; no
    request is made here, hence the low confidence.
    """

    name: str = "gravatar"
    confidence: float = 0.3

    async def enrich(self, request: EnrichmentRequest) -> Sequence[Fact]:
        digest = hashlib.sha256(request.primary_address.strip().lower().encode()).hexdigest()
        url = f"https://gravatar.com/avatar/{digest}?d=404"
        return [
            Fact(
                field="gravatar",
                value=url,
                source=self.name,
                confidence=self.confidence,
                observed_on=request.now,
            )
        ]


def default_providers() -> list[EnrichmentProvider]:
    """The built-in providers (no network)."""
    return [SignatureProvider(), GravatarProvider()]


@dataclass(frozen=True, slots=True, kw_only=True)
class CompanyUpdate:
    name: str | None
    website: str | None


def company_update(facts: Sequence[Fact], domain: str | None) -> CompanyUpdate:
    """Better company details from signature facts, when they agree with the company domain.

    The name is taken from the newest signature company line that mentions the domain's
    label, spaces and punctuation aside (``Enron North America Corp.`` for enron.com,
    ``Goldman Sachs & Co.`` for goldmansachs.com); the website from a signature URL on
    the same registrable domain, else ``https://<domain>``.
    """
    if not domain:
        return CompanyUpdate(name=None, website=None)
    label = _squashed(domain.split(".", 1)[0])
    newest = sorted(facts, key=lambda f: f.observed_on, reverse=True)
    name = next(
        (f.value for f in newest if f.field == "company" and label in _squashed(f.value)), None
    )
    website = next(
        (f.value for f in newest if f.field == "website" and _same_domain(f.value, domain)), None
    )
    if website and "://" not in website:
        website = f"https://{website}"
    return CompanyUpdate(name=name, website=website or f"https://{domain}")


def _squashed(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _same_domain(url: str, domain: str) -> bool:
    host = url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return companies.registrable_domain(host) == domain
