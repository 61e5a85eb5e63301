"""One person behind several addresses, through the import (issue 5/6 QA): an address that
spells the name, a handle, one local part at two companies, bare recipients named from X-To;
and two people with one first and last name kept apart by their middle initials."""

from __future__ import annotations

from pathlib import Path

from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import SystemClock
from fluffymail.crm.contacts import service as contacts_service
from tests.helpers import write_maildir
from tests.integration.contacts.conftest import Extract, ImportMail, Rows, mail

OWNER = "olive@owner-co.com"
ME = f"Olive Owner <{OWNER}>"


async def _merges(rows: Rows) -> list[tuple[list[str], str]]:
    return [
        (addresses, reason)
        for addresses, reason in await rows.all(
            "SELECT addresses, reason FROM crm.contact_merges WHERE unmerged_on IS NULL ORDER BY id"
        )
    ]


async def _same(rows: Rows, *addresses: str) -> bool:
    found = [await rows.contact(a) for a in addresses]
    return all(f is not None for f in found) and len({f["id"] for f in found if f}) == 1


async def test_merge__bare_recipients_named_from_x_to_join_the_address_that_spells_the_name(
    import_mail: ImportMail, extract: Extract, rows: Rows, tmp_path: Path
) -> None:
    x_to = "X-To: Whitfield, Dana K. </O=ACME/OU=NA/CN=DWHITFI>, Rao, Sam </O=ACME/OU=NA/CN=SRAO>"
    sent = [
        mail(1, sender=ME, to="k..whitfield@acme.com, sam.rao@acme.com", headers=x_to),
        mail(2, sender=ME, to="k..whitfield@acme.com, sam.rao@acme.com", headers=x_to),
        mail(3, sender=ME, to="dana.whitfield@acme.com"),  # no name anywhere: the address's
    ]
    await import_mail(write_maildir(tmp_path / "mail", {"Sent": sent}), OWNER)
    result = await extract()

    dana = await rows.contact("k..whitfield@acme.com")
    assert dana is not None and dana["name"] == "Dana K. Whitfield"
    assert await _same(rows, "k..whitfield@acme.com", "dana.whitfield@acme.com")
    assert dana["sent_to"] == 3 and result.merges == 1
    sam = await rows.contact("sam.rao@acme.com")
    assert sam is not None and sam["name"] == "Sam Rao" and sam["id"] != dana["id"]


async def test_merge__a_handle_joins_the_one_name_it_fits_and_an_undo_stands(
    import_mail: ImportMail,
    extract: Extract,
    rows: Rows,
    pool: AsyncConnectionPool,
    tmp_path: Path,
) -> None:
    sent = [
        mail(1, sender=ME, to="Dana Whitfield <dana_whitfield@acme.com>"),
        mail(2, sender=ME, to="danaw@acme.com"),
        mail(3, sender=ME, to="danaw@acme.com"),
        mail(4, sender=ME, to="Dave Whitfield <dave.whitfield@beta-co.com>"),
        mail(5, sender=ME, to="dwhitfield@beta-co.com"),  # fits Dave only: Dana is at acme.com
        mail(6, sender=ME, to="danaw@gmail.com"),  # free mail: anyone's
    ]
    await import_mail(write_maildir(tmp_path / "mail", {"Sent": sent}), OWNER)
    await extract()

    assert await _same(rows, "dana_whitfield@acme.com", "danaw@acme.com")
    assert await _same(rows, "dave.whitfield@beta-co.com", "dwhitfield@beta-co.com")
    gmail = await rows.contact("danaw@gmail.com")
    assert gmail is not None and not await _same(rows, "danaw@gmail.com", "danaw@acme.com")
    dana = await rows.contact("danaw@acme.com")
    assert dana is not None and (dana["name"], dana["sent_to"]) == ("Dana Whitfield", 3)
    assert sorted(await _merges(rows)) == [
        (["danaw@acme.com"], "handle_same_company"),
        (["dwhitfield@beta-co.com"], "handle_same_company"),
    ]

    merge_id = await rows.one(
        "SELECT id FROM crm.contact_merges WHERE 'danaw@acme.com' = ANY(addresses)"
    )
    async with pool.connection() as conn, conn.transaction():
        assert await contacts_service.unmerge(conn, merge_id, actor=OWNER, now=SystemClock().now())
    more = [
        mail(7, sender=ME, to="danaw@acme.com"),
        mail(8, sender=ME, to="Dana Whitfield <dana_whitfield@acme.com>"),
    ]
    await import_mail(write_maildir(tmp_path / "more", {"Sent": more}), OWNER)
    await extract()
    assert not await _same(rows, "dana_whitfield@acme.com", "danaw@acme.com")  # the user's word


async def test_merge__one_local_part_and_name_at_two_companies(
    import_mail: ImportMail, extract: Extract, rows: Rows, tmp_path: Path
) -> None:
    sent = [
        mail(1, sender=ME, to="Dana Whitfield <dwhitfie@acme.com>"),
        mail(2, sender=ME, to="Whitfield, Dana <dwhitfie@acmeenergy.com>"),
        mail(3, sender=ME, to="Dana Whitfield <dana.whitfield@gmail.com>"),  # free mail: no
        mail(4, sender=ME, to="Dana Whitfield <sales@beta-co.com>"),  # not her own address
    ]
    await import_mail(write_maildir(tmp_path / "mail", {"Sent": sent}), OWNER)
    await extract()

    assert await _same(rows, "dwhitfie@acme.com", "dwhitfie@acmeenergy.com")
    assert not await _same(rows, "dwhitfie@acme.com", "dana.whitfield@gmail.com")
    assert await _merges(rows) == [(["dwhitfie@acmeenergy.com"], "same_name_same_local_part")]


async def test_merge__other_middle_initials_are_two_people(
    import_mail: ImportMail, extract: Extract, rows: Rows, tmp_path: Path
) -> None:
    sent = [
        mail(1, sender=ME, to="Whitfield, Dana K. <dana.whitfield@acme.com>"),
        mail(2, sender=ME, to="Whitfield, Dana R. <d..whitfield@acme.com>"),
        mail(3, sender=ME, to="Dana Whitfield <dwhitfield@acme.com>"),  # may be either: joins one
    ]
    await import_mail(write_maildir(tmp_path / "mail", {"Sent": sent}), OWNER)
    await extract()

    assert not await _same(rows, "dana.whitfield@acme.com", "d..whitfield@acme.com")
    names = {await rows.one("SELECT c.name FROM crm.contacts c WHERE c.primary_address = %s", a)
             for a in ("dana.whitfield@acme.com", "d..whitfield@acme.com")}  # fmt: skip
    assert names == {"Dana K. Whitfield", "Dana R. Whitfield"}
