"""Meetings in the web app: the .ics import through the API (a file that is no calendar is a
400 with the reason) and the connections page form, a contact's meetings in the API and on
the contact page (Activity panel and timeline)."""

from __future__ import annotations

import httpx

from tests.integration.web.conftest import User, login, session_csrf

HTML = {"accept": "text/html"}
ICS = (
    b"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//EN\nBEGIN:VEVENT\nUID:lunch-1@t\n"
    b"DTSTART:20261101T120000Z\nDTEND:20261101T130000Z\nSUMMARY:Lunch with Rita\n"
    b"LOCATION:Cafe Nord\nORGANIZER;CN=Rita Moreno:mailto:rita@nord.example\n"
    b"ATTENDEE;CN=Rita Moreno;PARTSTAT=ACCEPTED:mailto:rita@nord.example\n"
    b"ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.com\nEND:VEVENT\nEND:VCALENDAR\n"
)


async def test_ics_import__api_contact_meetings_and_pages(
    client: httpx.AsyncClient, alice: User
) -> None:
    bad = await client.post("/api/meetings/import", content=b"hello", headers=alice.auth)
    assert bad.status_code == 400 and "iCalendar" in bad.json()["error"]["message"]
    done = await client.post(
        "/api/meetings/import?contact_policy=sent_and_received", content=ICS, headers=alice.auth
    )
    assert done.json() == {
        "events": 1, "stored": 1, "removed": 0, "skipped": 0, "contacts_created": 1
    }  # fmt: skip
    contacts = (await client.get("/api/contacts?limit=10", headers=alice.auth)).json()["items"]
    rita = next(c for c in contacts if c["primary_address"] == "rita@nord.example")
    assert rita["name"] == "Rita Moreno"
    assert rita["figures"]["meetings"] == 1
    assert rita["figures"]["last_meeting_at"].startswith("2026-11-01T12:00:00")
    listed = await client.get(f"/api/contacts/{rita['id']}/meetings", headers=alice.auth)
    assert [(m["title"], m["location"], m["source"]) for m in listed.json()] == [
        ("Lunch with Rita", "Cafe Nord", "ics")
    ]
    await login(client, "alice@example.com")
    page = (await client.get(f"/contacts/{rita['id']}", headers=HTML)).text
    assert 'data-figure="last-meeting"' in page and "Lunch with Rita" in page


async def test_ics_form__on_the_connections_page(client: httpx.AsyncClient, alice: User) -> None:
    await login(client, "alice@example.com")
    csrf = session_csrf((await client.get("/connections", headers=HTML)).text)
    htmx = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    ok = await client.post("/connections/ics", headers=htmx, files={"file": ("cal.ics", ICS)})
    assert "1 meeting imported" in ok.text
    bad = await client.post("/connections/ics", headers=htmx, files={"file": ("x.ics", b"no")})
    assert 'role="alert"' in bad.text and "could not be read as a calendar" in bad.text
