"""One person behind several addresses, through the import (issue 5/6 QA): an address that
spells the name, a handle, one local part at two companies, bare recipients named from X-To;
and two people with one first and last name kept apart by their middle initials."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import SystemClock
from fluffymail.crm.contacts import identity
from fluffymail.crm.contacts import repo as contacts_repo
from fluffymail.crm.contacts import service as contacts_service
from fluffymail.crm.mail import repo as mail_repo
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


async def _message_ids(rows: Rows, *numbers: int) -> list[int]:
    found = dict(await rows.all("SELECT subject, id FROM crm.messages"))
    return [found[f"note {n}"] for n in numbers]


async def test_merge__a_handle_and_the_name_it_fits_met_in_different_batches(
    import_mail: ImportMail, extract: Extract, rows: Rows, tmp_path: Path
) -> None:
    sent = [
        mail(1, sender=ME, to="danaw@acme.com"),  # a handle first, its name later
        mail(2, sender=ME, to="Dana Whitfield <dana_whitfield@acme.com>"),
        mail(3, sender=ME, to="Dave Whitfield <dave.whitfield@beta-co.com>"),  # a name first
        mail(4, sender=ME, to="dwhitfield@beta-co.com"),
        mail(5, sender=ME, to="Whitfield, Dave <dwhitfie@beta-energy.com>"),  # elsewhere later
        mail(6, sender=ME, to="Whitfield, Dave <dwhitfie@gamma-co.com>"),
    ]
    await import_mail(write_maildir(tmp_path / "mail", {"Sent": sent}), OWNER)
    for batch in ((1,), (2, 3), (4,), (5,), (6,)):
        await extract(await _message_ids(rows, *batch))

    assert await _same(rows, "danaw@acme.com", "dana_whitfield@acme.com")
    assert await _same(rows, "dwhitfield@beta-co.com", "dave.whitfield@beta-co.com")
    assert await _same(rows, "dwhitfie@beta-energy.com", "dwhitfie@gamma-co.com")
    assert not await _same(rows, "danaw@acme.com", "dave.whitfield@beta-co.com")


_GIVEN = ("Ann", "Ben", "Cleo", "Eva", "Finn", "Gus", "Hana", "Ivo", "Jules", "Kai")
_FAMILY = ("Baker", "Cole", "Dunn", "Ellis", "Frost", "Grant", "Hale", "Irwin", "Joyce", "Knox",
           "Lowe", "Moss", "Nash", "Owen", "Price", "Quinn", "Reed", "Stone", "Tate", "Vance")  # fmt: skip


async def _seed(
    conn: psycopg.AsyncConnection[Any], user_id: int, people: list[tuple[str, str, str]]
) -> None:
    """Contacts as extraction leaves them: (address, first name, family name); no name: ''."""
    for address, first, last in people:
        name = f"{first} {last}".strip()
        await conn.execute(
            "WITH c AS (INSERT INTO crm.contacts (user_id, primary_address, name, first_name,"
            " last_name, name_quality, created) VALUES (%s, %s, %s, %s, %s, %s, true)"
            " RETURNING id, user_id, primary_address)"
            " INSERT INTO crm.contact_addresses (user_id, address, contact_id)"
            " SELECT user_id, primary_address, id FROM c",
            (user_id, address, name, first, last, 3 if first and last else 0),
        )


async def test_address_candidates__only_the_people_who_can_pair_are_read(
    pool: AsyncConnectionPool,
) -> None:
    crowd = [(f"{g}.{f}@acme.com".lower(), g, f) for g in _GIVEN for f in _FAMILY]  # 200 named
    whitfields = [
        ("dana.whitfield@acme.com", "Dana", "Whitfield"),
        ("dave.whitfield@acme.com", "Dave", "Whitfield"),
        ("robin.whitfield@acme.com", "Robin", "Whitfield"),
        ("dana.whitfield@beta-co.com", "Dana", "Whitfield"),
    ]
    handles = [("dwhitfield@acme.com", "", ""), ("danaw@acme.com", "", "")]
    async with pool.connection() as conn:
        user, _ = await mail_repo.get_or_create_user(conn, OWNER)
        await _seed(conn, user.id, crowd + whitfields + handles)
        hosts = ["acme.com"]

        # a nameless handle: only the people whose name could make it, at its host
        keys = identity.handle_name_keys("dwhitfield")
        named = await contacts_repo.address_candidates_named(conn, user.id, keys, hosts, [])
        assert {(c.name, c.address) for c in named} == {
            ("Dana Whitfield", "dana.whitfield@acme.com"),
            ("Dave Whitfield", "dave.whitfield@acme.com"),
        }
        # a new name: the nameless people at its handles, by exact address
        dana = [c for c in named if c.first == "Dana"]
        at = await contacts_repo.address_candidates_at(
            conn, user.id, identity.handle_addresses(dana, hosts), hosts
        )
        assert {c.address for c in at} == {"dwhitfield@acme.com", "danaw@acme.com"}
        # its namesakes elsewhere, for one local part at two companies
        keys = identity.NameKeys(full=frozenset({("Dana", "Whitfield")}))
        namesakes = await contacts_repo.address_candidates_named(
            conn, user.id, keys, [], ["dana.whitfield"]
        )
        assert {c.address for c in namesakes} == {
            "dana.whitfield@acme.com",
            "dana.whitfield@beta-co.com",
        }

    # dwhitfield fits Dana and Dave: no pair; danaw only Dana
    danaw = next(c.contact_id for c in at if c.address == "danaw@acme.com")
    pairs = identity.address_pairs([*named, *at], handle_hosts=hosts)
    assert pairs == [(dana[0].contact_id, danaw, identity.PairReason.HANDLE)]


async def test_merge__one_name_at_work_and_home_shown_together_in_one_message(
    import_mail: ImportMail, extract: Extract, rows: Rows, tmp_path: Path
) -> None:
    sent = [
        mail(1, sender=ME, to="Dana Whitfield <dana.whitfield@acme.com>"),
        mail(2, sender=ME, to="Dana Whitfield <dwhit77@gmail.com>"),
        mail(3, sender=ME, to="Robin Roe <robin.roe@acme.com>"),
        mail(4, sender=ME, to="Robin Roe <robin@roe-family.net>"),  # never together: apart
        mail(5, sender=ME, to="Sam Rao <sam.rao@acme.com>"),
        mail(6, sender=ME, to="Sam Rao <sam@rao.org>"),
        mail(7, sender=ME, to="Sam Rao <srao@beta-co.com>"),  # a third Sam Rao: too common
        mail(8, sender=ME, to="Sam Rao <sam.rao@acme.com>, Sam Rao <sam@rao.org>"),
        mail(9, sender=ME, to="Mike Doyle <mike.doyle@acme.com>"),
        mail(10, sender=ME, to="Mike Doyle <mdoyle@doyle-tools.com>"),
    ]
    received = [  # someone writes to both of Dana's; one Mike Doyle writes to the other
        mail(11, sender="Lee Park <lee@park-co.com>", to=f"{ME}, dana.whitfield@acme.com",
             cc="dwhit77@gmail.com"),
        mail(12, sender="Mike Doyle <mdoyle@doyle-tools.com>",
             to="Mike Doyle <mike.doyle@acme.com>", cc=ME, subject="Love, Dad"),
    ]  # fmt: skip
    await import_mail(write_maildir(tmp_path / "mail", {"Sent": sent, "inbox": received}), OWNER)
    await extract()

    assert await _same(rows, "dana.whitfield@acme.com", "dwhit77@gmail.com")
    assert not await _same(rows, "robin.roe@acme.com", "robin@roe-family.net")
    assert not await _same(rows, "sam.rao@acme.com", "sam@rao.org")
    assert not await _same(rows, "mike.doyle@acme.com", "mdoyle@doyle-tools.com")
    assert await _merges(rows) == [(["dwhit77@gmail.com"], "same_name_one_message")]


async def test_merge__a_namesake_named_after_the_message_that_shows_them_together(
    import_mail: ImportMail,
    extract: Extract,
    rows: Rows,
    pool: AsyncConnectionPool,
    tmp_path: Path,
) -> None:
    sent = [
        mail(1, sender=ME, to="dana.whitfield@acme.com, dwhit77@gmail.com"),  # no names yet
        mail(2, sender=ME, to="Dana Whitfield <dana.whitfield@acme.com>"),
        mail(3, sender=ME, to="Whitfield, Dana <dwhit77@gmail.com>"),
    ]
    await import_mail(write_maildir(tmp_path / "mail", {"Sent": sent}), OWNER)
    for batch in ((1,), (2,), (3,)):
        await extract(await _message_ids(rows, *batch))
    assert await _same(rows, "dana.whitfield@acme.com", "dwhit77@gmail.com")

    merge_id = await rows.one("SELECT id FROM crm.contact_merges")
    async with pool.connection() as conn, conn.transaction():
        assert await contacts_service.unmerge(conn, merge_id, actor=OWNER, now=SystemClock().now())
    more = [mail(4, sender=ME, to="Dana Whitfield <dana.whitfield@acme.com>, dwhit77@gmail.com")]
    await import_mail(write_maildir(tmp_path / "more", {"Sent": more}), OWNER)
    await extract(await _message_ids(rows, 4))
    assert not await _same(rows, "dana.whitfield@acme.com", "dwhit77@gmail.com")  # the user's word
