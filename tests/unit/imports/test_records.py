"""Reading and checking imported files without a database: headers from Google, Outlook and
HubSpot exports, FluffyMail's own export read back, vCards 3.0 and 4.0, and the reason each
bad record is left out."""

from __future__ import annotations

import codecs

import pytest

from fluffymail.crm.imports import columns, reading, records


def _check(text: str, kind: columns.Kind = "contacts", region: str | None = None):
    read = reading.read_csv(text, kind, 1000)
    return read, records.check_all(read.records, kind, region)


def test_map_header__outlook_google_hubspot_and_our_own() -> None:
    outlook = ["Title", "First Name", "Last Name", "Company", "Job Title", "E-mail Address",
               "E-mail 2 Address", "Mobile Phone", "Business Phone", "Categories", "Notes"]  # fmt: skip
    fields = [c.field for c in columns.map_header(outlook, "contacts")]
    assert fields == [None, "first_name", "last_name", "company", "title",
                      "email", "email", "phone", "phone", "tags", "notes"]  # fmt: skip
    google = ["Name", "Given Name", "E-mail 1 - Value", "Phone 1 - Value", "Organization 1 - Name",
              "Organization 1 - Title", "Group Membership", "Labels"]  # fmt: skip
    assert [c.field for c in columns.map_header(google, "contacts")] == [
        "name", "first_name", "email", "phone", "company", "title", "tags", "tags"
    ]  # fmt: skip
    hubspot = ["Email", "First Name", "Last Name", "Associated Company", "Phone Number", "Mood"]
    assert [c.field for c in columns.map_header(hubspot, "contacts")][-1] is None
    ours = [
        "name",
        "email",
        "company",
        "company_domain",
        "title",
        "phone",
        "level",
        "tags",
        "notes",
    ]
    assert [c.field for c in columns.map_header(ours, "contacts")] == [
        "name", "email", "company", "company_domain", "title", "phone", None, "tags", "notes"
    ]  # fmt: skip


def test_check__the_reason_for_each_bad_row() -> None:
    _, checked = _check(
        "Email,Name,Phone,Tags\n"
        "ok@acme.com,Ada Lovelace,+44 20 7946 0958,A;B\n"
        "nope,Bad,,\n"
        ",No Address,,\n"
        "x@acme.com,Local Phone,020 7946 0958,\n"
        "OK@acme.com,Twice,,\n"
        f"y@acme.com,Long Tag,,{'t' * 41}\n"
    )
    assert [r.address for r in checked.rows] == ["ok@acme.com"]
    reasons = {p.row: p.reason for p in checked.problems}
    assert "not an email address" in reasons[3]
    assert "no email address" in reasons[4]
    assert "no country code" in reasons[5]
    assert "already on row 2" in reasons[6]
    assert "longer than 40" in reasons[7]
    assert checked.total == 6


def test_check__a_damaged_address_is_kept_marked_and_noted_as_mail_keeps_it() -> None:
    """QA: the export of contacts whose addresses an old mail system damaged did not read back
    (each row was refused). Extraction keeps them as written with their defect; so does the
    import, with a note for the row. Junk is still a row left out, with its reason."""
    _, checked = _check(
        "Email,Name\n"
        ".hall@acme.com,Steve Hall\n"
        "carol.st.@acme.com,Carol St. Clair\n"
        "K..Allen@Enron.com,Phillip Allen\n"
        "ok@acme.com,Ok\n"
        "a b@acme.com,Junk\n"
        ".@acme.com,Nothing Left\n"
    )
    assert [(r.address, r.address_defect) for r in checked.rows] == [
        (".hall@acme.com", "leading_dot"),
        ("carol.st.@acme.com", "trailing_dot"),
        ("k..allen@enron.com", "doubled_dot"),
        ("ok@acme.com", None),
    ]
    notes = {w.row: w.reason for w in checked.warnings}
    assert sorted(notes) == [2, 3, 4]
    assert "“.hall@acme.com” is not a valid address (it starts with a dot" in notes[2]
    assert "marked damaged" in notes[3] and "two dots in a row" in notes[4]
    assert [p.row for p in checked.problems] == [6, 7]
    assert all("not an email address" in p.reason for p in checked.problems)


def test_check__names_companies_phones_tags_notes_cleaned() -> None:
    _, checked = _check(
        "First Name,Last Name,Email,Company,Phone,Labels,Notes\n"
        "Ada,Lovelace, <ADA@Engines.co.uk> ,Analytical,'+44 20 7946 0958; 020 7946 0959,"
        '"* myContacts ::: Investors ::: investors","one\n\n---\n\ntwo"\n',
        region="GB",
    )
    [row] = checked.rows
    assert (row.name, row.first_name, row.last_name, row.name_quality) == (
        "Ada Lovelace", "Ada", "Lovelace", 3
    )  # fmt: skip
    assert row.address == "ada@engines.co.uk"
    assert (row.company, row.company_domain, row.company_given) == (
        "Analytical",
        "engines.co.uk",
        True,
    )
    assert row.phones == ("+44 20 7946 0958", "+44 20 7946 0959")  # the apostrophe of our export
    assert row.tags == ("Investors",)
    assert row.notes == ("one", "two")


def test_check__free_mail_has_no_company_and_companies_need_a_domain() -> None:
    _, checked = _check("Email\nsomeone@gmail.com\n")
    assert checked.rows[0].company_domain is None and not checked.rows[0].company_given
    _, companies = _check(
        "Name,Website\nAcme,https://www.acme.com/x\nNo site,\nBad,not a domain\n", "companies"
    )
    assert [(r.name, r.company_domain, r.website) for r in companies.rows] == [
        ("Acme", "acme.com", "https://www.acme.com/x")
    ]
    assert [p.row for p in companies.problems] == [3, 4]


def test_decode__boms_encodings_and_refusals() -> None:
    assert reading.decode(codecs.BOM_UTF8 + b"Email\n") == "Email\n"
    assert reading.decode("Email\n".encode("utf-16")) == "Email\n"
    assert reading.decode("Zoë".encode("latin-1"), "latin-1") == "Zoë"
    with pytest.raises(reading.Unreadable, match=r"not UTF-8 text .* line 2"):
        reading.decode("Email\nZoë".encode("latin-1"))
    with pytest.raises(reading.Unreadable) as refused:
        reading.decode(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert refused.value.status == 415
    with pytest.raises(reading.Unreadable, match="no column holds email"):
        reading.read_csv("Name;Phone\nAda;1\n", "contacts", 10)
    with pytest.raises(reading.Unreadable, match="more than 2 rows"):
        reading.read_csv("Email\na@b.com\nc@d.com\ne@f.com\n", "contacts", 2)


def test_semicolons_and_tabs_are_sniffed() -> None:
    _, checked = _check("Email;Name\nada@acme.com;Ada\n")
    assert checked.rows[0].name == "Ada"
    _, checked = _check("Email\tName\nada@acme.com\tAda\n")
    assert checked.rows[0].name == "Ada"


def test_vcards_3_and_4() -> None:
    read = reading.read_vcards(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Hopper;Grace;;;\r\nEMAIL;TYPE=INTERNET:grace@navy.mil\r\n"
        "ORG:US Navy;Research\r\nTITLE:Rear Admiral\r\nTEL;TYPE=CELL:+1 650 253 0000\r\n"
        "CATEGORIES:Navy,Pioneers\r\nNOTE:COBOL\\, mostly\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Linus\r\nEMAIL;PREF=1:linus@kernel.org\r\n"
        'TEL;VALUE=uri;TYPE="voice,cell":tel:+1-650-253-0001\r\nEND:VCARD\r\n',
        10,
    )
    checked = records.check_all(read.records, "contacts", None)
    grace, linus = checked.rows
    assert (grace.name, grace.company, grace.title) == ("Grace Hopper", "US Navy", "Rear Admiral")
    assert grace.tags == ("Navy", "Pioneers") and grace.notes == ("COBOL, mostly",)
    assert (linus.address, linus.phones) == ("linus@kernel.org", ("+1 650-253-0001",))
    with pytest.raises(reading.Unreadable):
        reading.read_vcards("BEGIN:VCARD\r\nFN:broken\r\n", 10)
