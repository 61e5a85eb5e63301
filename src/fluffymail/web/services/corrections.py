"""What a person corrects by hand, as the web app does it: rename a contact, set or clear its
company, title and phone (their value wins over extracted ones and is kept from later
extraction), hide it or mark it not a person, make a contact by hand; edit a company (merging
two is services/company_merges.py). Every change is logged in the activity log in its own transaction.

Another user's contact or company looks exactly like a missing one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from psycopg_pool import AsyncConnectionPool

from fluffymail.crm.contacts import companies as company_rules
from fluffymail.crm.contacts import repo as contacts_repo
from fluffymail.crm.corrections import repo as fix_repo
from fluffymail.crm.messages import addresses
from fluffymail.errors import FluffyMailError
from fluffymail.web.services import activity
from fluffymail.web.services.companies import CompanyNotFound
from fluffymail.web.services.contacts import ContactNotFound, db_now
from fluffymail.web.services.messages import Conn, fetch_all, fetch_one

NAME_MAX = 200
DOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}\.)+[a-z][a-z0-9-]{1,62}$")
VALUE_MAX = 200
UNSET: Any = object()
"""A field left as it is (None clears it)."""


class EditRefused(FluffyMailError):
    """The change cannot be saved."""


class AddressTaken(FluffyMailError):
    """You already have a contact with that address."""

    def __init__(self, message: str, contact_id: int) -> None:
        super().__init__(message)
        self.contact_id = contact_id


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactEdit:
    """What to change; UNSET leaves a field, None (or '') clears company, title or phone."""

    name: Any = UNSET
    company_id: Any = UNSET
    company_domain: Any = UNSET
    title: Any = UNSET
    phone: Any = UNSET


def _text(value: str, what: str, limit: int = VALUE_MAX) -> str:
    value = " ".join(value.split())
    if len(value) > limit:
        raise EditRefused(f"{what} can be at most {limit} characters")
    return value


def _phone(value: str) -> str:
    value = _text(value, "a phone number", 40)
    if value and not any(ch.isdigit() for ch in value):
        raise EditRefused("a phone number needs digits")
    if any(not (ch.isdigit() or ch in " +-().x/") for ch in value):
        raise EditRefused("a phone number holds digits, spaces and + - ( ) . x / only")
    return value


async def edit_contact(
    pool: AsyncConnectionPool, user_id: int, contact_id: int, edit: ContactEdit
) -> None:
    """Apply the edit, all of it or none (`EditRefused` / `ContactNotFound` / `CompanyNotFound`)."""
    async with pool.connection() as conn, conn.transaction():
        now = await db_now(conn)
        before = await _live_contact(conn, user_id, contact_id)
        if edit.name is not UNSET:
            await _rename(conn, user_id, contact_id, before, edit.name, now)
        if edit.company_id is not UNSET or edit.company_domain is not UNSET:
            await _set_company(conn, user_id, contact_id, before, edit, now)
        for field in ("title", "phone"):
            value = getattr(edit, field)
            if value is not UNSET:
                await _set_fact(conn, user_id, contact_id, field, value or "", now)


async def _live_contact(conn: Conn, user_id: int, contact_id: int) -> dict[str, Any]:
    row = await fetch_one(conn, "contact_get", {"id": contact_id, "user_id": user_id})
    if row is None:
        raise ContactNotFound(f"no contact {contact_id}")
    if row["merged_into_id"] is not None:
        raise EditRefused("this contact was merged into another; change that one")
    return row


async def _rename(
    conn: Conn, user_id: int, contact_id: int, before: dict[str, Any], name: str, now: datetime
) -> None:
    person = fix_repo.PersonName.of(_text(name or "", "a name", NAME_MAX))
    if not person.full:
        raise EditRefused("a name cannot be empty")
    if person.full != before["name"]:
        await fix_repo.rename(conn, user_id, contact_id, person, now)
        await fix_repo.summary_stale(conn, user_id, contact_id)  # it has the old name
        await activity.log(
            conn,
            user_id,
            ("contact", contact_id),
            "contact.edited",
            field="name",
            before=before["name"],
            after=person.full,
        )


async def _set_company(
    conn: Conn,
    user_id: int,
    contact_id: int,
    before: dict[str, Any],
    edit: ContactEdit,
    now: datetime,
) -> None:
    company_id = await _company_for(conn, user_id, edit, now)
    if not await fix_repo.set_company(conn, user_id, contact_id, company_id, now):
        raise CompanyNotFound(f"no company {company_id}")
    if company_id != before["company_id"]:
        await activity.log(
            conn,
            user_id,
            ("contact", contact_id),
            "contact.edited",
            field="company",
            before=before["company_name"],
            after_company_id=company_id,
        )


async def _company_for(conn: Conn, user_id: int, edit: ContactEdit, now: datetime) -> int | None:
    """The company the edit names: by id, or by domain (made if the user has none there)."""
    if edit.company_id is not UNSET and edit.company_id is not None:
        found = await fix_repo.lock_company(conn, user_id, company_id=edit.company_id)
        if found is None:
            raise CompanyNotFound(f"no company {edit.company_id}")
        return found.merged_into_id or found.id
    domain = edit.company_domain if edit.company_domain is not UNSET else None
    if not domain or not domain.strip():
        return None
    host = domain.strip().lower().removeprefix("https://").removeprefix("http://").split("/")[0]
    # A domain not under a public suffix (an intranet, .example) is taken as typed.
    registrable = company_rules.registrable_domain(host) or (host if DOMAIN.match(host) else None)
    if registrable is None:
        raise EditRefused(f"“{domain.strip()}” is not a company's domain (as in acme.com)")
    found = await fix_repo.lock_company(conn, user_id, domain=registrable)
    if found is not None:
        return found.merged_into_id or found.id
    name = company_rules.company_name_from_domain(registrable)
    made = await contacts_repo.ensure_companies(conn, user_id, {registrable: name}, now)
    return made[registrable]


async def _set_fact(
    conn: Conn,
    user_id: int,
    contact_id: int,
    field: Literal["title", "phone"],
    value: str,
    now: datetime,
) -> None:
    value = _phone(value) if field == "phone" else _text(value, "a title")
    await fix_repo.set_fact(conn, contact_id, field, value, now)
    await contacts_repo.save_facts(conn, contact_id, [])  # refresh: the user's value wins
    await activity.log(
        conn, user_id, ("contact", contact_id), "contact.edited", field=field, after=value
    )


HideAs = Literal["hidden", "not_person", "shown"]
_REASONS: dict[HideAs, fix_repo.HideReason | None] = {
    "hidden": "user",
    "not_person": "not_person",
    "shown": None,
}


async def set_visibility(
    pool: AsyncConnectionPool, user_id: int, contact_ids: list[int], state: HideAs
) -> list[int]:
    """Hide contacts, mark them not a person (a bot, a mailing list), or show them again; all
    or none (`ContactNotFound` when any is not the user's). Answers those changed."""
    changed = []
    async with pool.connection() as conn, conn.transaction():
        now = await db_now(conn)
        for contact_id in sorted(set(contact_ids)):
            row = await _live_contact(conn, user_id, contact_id)
            if row["suppressed_reason"] == _REASONS[state]:
                continue
            if not await fix_repo.set_hidden(conn, user_id, contact_id, _REASONS[state], now):
                why = {"self": "it is your own address"}.get(row["suppressed_reason"], "")
                raise EditRefused(
                    f"contact {contact_id} is kept out of your lists by FluffyMail"
                    f"{' (' + why + ')' if why else ''}; it cannot be changed here"
                )
            await activity.log(
                conn,
                user_id,
                ("contact", contact_id),
                f"contact.{state}",
                address=row["primary_address"],
            )
            changed.append(contact_id)
    return changed


async def hidden_contacts(
    pool: AsyncConnectionPool, user_id: int, *, limit: int = 200
) -> list[dict[str, Any]]:
    """Contacts the user hid or marked not a person (id, label, suppressed_reason)."""
    async with pool.connection() as conn:
        return await fetch_all(conn, "contact_hidden", {"user_id": user_id, "limit": limit})


async def create_contact(
    pool: AsyncConnectionPool,
    user_id: int,
    *,
    address: str,
    name: str = "",
    company_domain: str | None = None,
) -> int:
    """A contact made by hand (its company from the address's domain unless given);
    `AddressTaken` when the user has a contact with that address already."""
    email = addresses.make_address(address).email
    if not email or not addresses.is_valid_email(email):
        raise EditRefused(f"“{address.strip()}” is not an email address")
    person = fix_repo.PersonName.of(_text(name, "a name", NAME_MAX))
    async with pool.connection() as conn, conn.transaction():
        now = await db_now(conn)
        me = (await contacts_repo.load_self(conn, [user_id])).get(user_id)
        if me is not None and email in {me.email.lower(), *(a.lower() for a in me.aliases)}:
            raise EditRefused(f"{email} is your own address: you are not one of your contacts")
        if (owner := await fix_repo.address_owner(conn, user_id, email)) is not None:
            raise AddressTaken(_taken(email, owner.hidden), owner.contact_id)
        domain = company_domain
        if domain is None and (guess := company_rules.company_domain(email)) is not None:
            domain = guess.domain
        company_id = await _company_for(conn, user_id, ContactEdit(company_domain=domain), now)
        contact_id = await fix_repo.insert_contact(
            conn, user_id, address=email, name=person, company_id=company_id, now=now
        )
        if contact_id is None:
            raise EditRefused(f"{email} was just added; reload to see it")
        await activity.log(conn, user_id, ("contact", contact_id), "contact.created", address=email)
    return contact_id


def _taken(email: str, hidden: str | None) -> str:
    """Why a contact by hand was not made: the contact that has the address, and where."""
    if hidden in ("user", "not_person"):
        return (
            f"you already have a contact with {email}, hidden from your lists: show it again "
            "under “Hidden contacts” on the contacts page"
        )
    return f"you already have a contact with {email}"


# -- companies ----------------------------------------------------------------------------------


async def edit_company(
    pool: AsyncConnectionPool,
    user_id: int,
    company_id: int,
    *,
    name: str | None = None,
    website: Any = UNSET,
) -> None:
    """Rename the company (kept from what signatures say) and/or set or clear its website."""
    if name is not None:
        name = _text(name, "a company's name")
        if not name:
            raise EditRefused("a company's name cannot be empty")
    if website is not UNSET and website:
        website = website.strip()
        if not website.startswith(("http://", "https://")) or " " in website or len(website) > 500:
            raise EditRefused("a website starts with http:// or https://")
    async with pool.connection() as conn, conn.transaction():
        now = await db_now(conn)
        before = await fix_repo.lock_company(conn, user_id, company_id=company_id)
        if before is None:
            raise CompanyNotFound(f"no company {company_id}")
        if name == before.name:  # unchanged: the name is not pinned as the user's
            name = None
        await fix_repo.edit_company(
            conn,
            user_id,
            company_id,
            name=name,
            website=website or None if website is not UNSET else None,
            set_website=website is not UNSET,
            now=now,
        )
        detail: dict[str, Any] = {}
        if name is not None and name != before.name:
            detail.update(before=before.name, name=name)
        if website is not UNSET and (website or None) != before.website:
            detail.update(website=website or None)
        if detail:
            await activity.log(conn, user_id, ("company", company_id), "company.edited", **detail)
