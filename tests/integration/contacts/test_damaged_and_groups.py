"""Issue 12, section 2: a damaged address becomes a person and merges with the clean one;
a distribution list becomes a group with its members, kept out of the top contacts."""

from __future__ import annotations

from pathlib import Path

from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import SystemClock
from fluffymail.crm.groups import repo as groups_repo
from fluffymail.crm.relationships import analysis
from fluffymail.crm.relationships import repo as relationships_repo
from tests.helpers import write_maildir
from tests.integration.contacts.conftest import Extract, ImportMail, Rows, mail

OWNER = "olive@owner-co.com"
ME = f"Olive Owner <{OWNER}>"
X_HALL = "Hall, Steve C. (Legal) </O=ACME/OU=NA/CN=RECIPIENTS/CN=SHALL4>"
X_BELDEN = "Belden, Tim </O=ACME/OU=NA/CN=RECIPIENTS/CN=TBELDEN>"


async def test_damaged__address_kept_with_its_defect_named_from_x_to_and_merged(
    import_mail: ImportMail, extract: Extract, rows: Rows, tmp_path: Path
) -> None:
    sent = [
        mail(
            n,
            sender=ME,
            to="legal <.hall@acme.com>, tim.belden@acme.com",
            headers=f"X-To: {X_HALL}, {X_BELDEN}",
        )
        for n in range(3)
    ]
    sent.append(mail(9, sender=ME, to="Steve Hall <steve.hall@acme.com>"))
    inbox = [mail(20, sender="legal <.hall@acme.com>", to=OWNER, headers=f"X-From: {X_HALL}")]
    await import_mail(write_maildir(tmp_path / "mail", {"Sent": sent, "inbox": inbox}), OWNER)
    await extract()

    [(defect,)] = await rows.all(
        "SELECT defect FROM crm.contact_addresses WHERE address = '.hall@acme.com'"
    )
    assert defect == "leading_dot"
    damaged, clean = await rows.contact(".hall@acme.com"), await rows.contact("steve.hall@acme.com")
    assert damaged is not None and clean is not None
    assert damaged["id"] == clean["id"]  # same name at the same company: one person
    assert damaged["sent_to"] == 4 and damaged["received_from"] == 1
    assert "Hall" in damaged["name"] and "Steve" in damaged["name"]
    belden = await rows.contact("tim.belden@acme.com")
    assert belden is not None and belden["id"] != damaged["id"]


async def test_damaged__trailing_dot_sender_is_not_dropped(
    import_mail: ImportMail, extract: Extract, rows: Rows, tmp_path: Path
) -> None:
    inbox = [mail(1, sender="carol.st.@acme.com", to=OWNER, headers="X-From: St. Clair, Carol")]
    sent = [mail(2, sender=ME, to="carol.st.@acme.com", headers="X-To: St. Clair, Carol")]
    await import_mail(write_maildir(tmp_path / "mail", {"Sent": sent, "inbox": inbox}), OWNER)
    result = await extract()

    assert result.automated == 0  # a damaged From no longer makes the message "no sender"
    carol = await rows.contact("carol.st.@acme.com")
    assert carol is not None and carol["created"]
    assert (carol["sent_to"], carol["received_from"]) == (1, 1)
    assert carol["name"] == "Carol St. Clair"
    [(defect,)] = await rows.all(
        "SELECT defect FROM crm.contact_addresses WHERE address = 'carol.st.@acme.com'"
    )
    assert defect == "trailing_dot"


async def test_group__dl_and_fanout_addresses_are_groups_with_members_not_top_contacts(
    import_mail: ImportMail,
    extract: Extract,
    rows: Rows,
    pool: AsyncConnectionPool,
    tmp_path: Path,
) -> None:
    dl = "dl-west-desk@acme.com"
    fan = "westpower@acme.com"  # nothing in its name: only its fan-out says it is a list
    sent = [mail(n, sender=ME, to=f"West Desk <{dl}>, bob@acme.com") for n in range(6)]
    sent += [mail(10 + n, sender=ME, to="bob@acme.com") for n in range(3)]
    inbox = [
        mail(30 + n, sender=f"{who}@acme.com", to=fan, subject=f"desk {n}")
        for n, who in enumerate(("ann.lee", "carl.diaz", "ann.lee", "dora.fox"))
    ]
    inbox += [mail(40, sender="ann.lee@acme.com", to=dl, cc=OWNER)]
    inbox += [mail(41 + n, sender="bob@acme.com", to=OWNER) for n in range(3)]
    await import_mail(
        write_maildir(tmp_path / "mail", {"Sent": sent, "inbox": inbox}),
        OWNER,
        policy="sent_and_received",
    )
    other = [mail(60 + n, sender="zed@acme.com", to=dl, cc="otto@other-co.com") for n in range(2)]
    await import_mail(write_maildir(tmp_path / "other", {"inbox": other}), "otto@other-co.com")
    await extract()

    kinds = dict(
        await rows.all("SELECT primary_address, kind_reason FROM crm.contacts WHERE kind = 'group'")
    )
    assert kinds == {dl: "dl_address", fan: "fanout"}
    async with pool.connection() as conn:
        user_id = await rows.one("SELECT id FROM crm.users WHERE email = %s", OWNER)
        await analysis.analyze_user(conn, user_id, now=SystemClock().now(), full=True)
        top = await relationships_repo.top(conn, user_id, limit=20, everyone=True)
        found = await groups_repo.list_groups(conn, user_id)
        dl_id = next(g.id for g in found if g.address == dl)
        members = await groups_repo.members(conn, user_id, dl_id)
        fan_members = await groups_repo.members(
            conn, user_id, next(g.id for g in found if g.address == fan)
        )
    shown = {t.address for t in top}
    assert dl not in shown and fan not in shown and "bob@acme.com" in shown
    assert {g.address for g in found} == {dl, fan}
    by_address = {g.address: g for g in found}
    # Olive's 6 and Ann's 1: another user's mail to the same list is not counted
    assert (by_address[dl].messages, by_address[dl].members) == (7, 1)
    assert (by_address[fan].messages, by_address[fan].members) == (4, 3)
    assert [m.address for m in members] == ["ann.lee@acme.com"]
    assert sorted(m.address for m in fan_members) == [
        "ann.lee@acme.com",
        "carl.diaz@acme.com",
        "dora.fox@acme.com",
    ]


async def test_group_syntax__members_are_recipients_and_the_group_is_named_on_groups(
    import_mail: ImportMail,
    extract: Extract,
    rows: Rows,
    pool: AsyncConnectionPool,
    tmp_path: Path,
) -> None:
    team = "West Desk: Ann Lee <ann.lee@acme.com>, carl.diaz@acme.com;"
    sent = [mail(n, sender=ME, to=team, cc="bob@acme.com") for n in range(3)]
    sent += [mail(5, sender=ME, to="undisclosed-recipients:;", cc="bob@acme.com")]
    sent += [mail(6, sender=ME, to="west desk: dora.fox@acme.com;")]
    await import_mail(write_maildir(tmp_path / "mail", {"Sent": sent}), OWNER)
    await extract()

    for member in ("ann.lee@acme.com", "carl.diaz@acme.com", "dora.fox@acme.com"):
        person = await rows.contact(member)  # the members are real people
        assert person is not None and person["created"], member
    assert await rows.all("SELECT 1 FROM crm.contacts WHERE kind = 'group'") == []
    [(stored,)] = await rows.all(
        "SELECT extra_headers->'address_groups' FROM crm.messages"
        " WHERE message_id = 'c0@example.com'"
    )
    assert stored == [
        {"header": "to", "name": "West Desk", "members": ["ann.lee@acme.com", "carl.diaz@acme.com"]}
    ]
    async with pool.connection() as conn:
        user_id = await rows.one("SELECT id FROM crm.users WHERE email = %s", OWNER)
        [named] = await groups_repo.named_groups(conn, user_id)  # undisclosed-recipients: none
    assert (named.messages, named.members) == (
        4,
        ("ann.lee@acme.com", "carl.diaz@acme.com", "dora.fox@acme.com"),
    )
    assert named.name.lower() == "west desk"
