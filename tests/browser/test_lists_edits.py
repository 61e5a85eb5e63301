"""A person saves the filtered contacts list as a list and changes its columns, fills a static
list from a bulk selection, hides and exports contacts, corrects a contact's details, edits a
company, and confirms a contact merge and a company merge after seeing what moves (undoing
the latter); the new pages fit a phone. Screenshots go to /tmp/crm-lists-*.png; look at them
when changing these pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.test_contacts import seeded  # noqa: F401
from tests.browser.test_notes_tags import _login
from tests.integration.web.contact_seed import Seeded

SHOTS = Path("/tmp")


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"crm-lists-{name}.png"), full_page=True, caret="initial")


def _fits(page: Any, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll}px wide on a {width}px screen"


def test_save_a_list_then_fill_a_static_list_in_bulk(
    seeded: Seeded,  # noqa: F811
    server: str,
    browser: Any,
) -> None:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _login(page, server)
    rows = page.locator("table.contacts tbody tr")
    page.get_by_label("Going cold only").check()
    expect(rows).to_have_count(1)
    page.locator("#save-view summary").click()
    page.get_by_label("List name").fill("Going cold")
    page.get_by_label("Share with your workspace").check()
    page.get_by_role("button", name="Save list").click()
    expect(page.get_by_role("heading", name="Going cold", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("cold:yes")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Grace Hopper")
    page.locator("#list-settings summary").click()
    page.get_by_label("Trend").uncheck()
    page.get_by_label("They sent").uncheck()
    page.get_by_role("button", name="Save settings").click()
    header = page.locator("table.contacts thead")
    expect(header).not_to_contain_text("Trend")
    expect(header).to_contain_text("Strength")
    _shot(page, "01-saved-view")

    page.goto(f"{server}/contacts")
    for name in ("Ada Lovelace", "Linus Torvalds"):
        page.get_by_label(f"Tick {name}").check()
    expect(page.locator("#bulk-count")).to_have_text("2 ticked")
    page.get_by_label("New list", exact=True).fill("Board")
    page.get_by_role("button", name="Add to list").click()
    status = page.get_by_role("status")
    expect(status).to_contain_text("Added 2 contacts to Board")
    _shot(page, "02-added-to-list")

    page.get_by_label("Tick Linus Torvalds").check()
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    path = download.value.path()
    text = Path(path).read_text()
    assert text.splitlines()[0].startswith("name,email,company")
    assert "linus@acme.test" in text

    page.get_by_label("Tick Linus Torvalds").check()
    page.get_by_role("button", name="Hide").click()
    expect(page.get_by_role("status")).to_contain_text("Hid 1 contact")
    expect(rows).to_have_count(3)

    page.goto(f"{server}/lists")
    expect(page.locator(".list-rows")).to_contain_text("Board")
    expect(page.locator(".list-rows")).to_contain_text("Going cold")
    _shot(page, "03-lists")
    page.get_by_role("link", name="Board").click()
    expect(rows).to_have_count(1)  # Linus is hidden now
    expect(rows.first).to_contain_text("Ada Lovelace")
    page.get_by_label("Tick Ada Lovelace").check()
    page.get_by_role("button", name="Remove from list").click()
    expect(page.locator("#contacts-table")).to_contain_text("No contacts")

    page.goto(f"{server}/contacts")
    page.locator("#hidden-contacts summary").click()
    _shot(page, "03b-hidden-contacts")
    page.get_by_role("button", name="Show Linus Torvalds again").click()
    page.goto(f"{server}/contacts")
    expect(rows).to_have_count(4)


def test_correct_a_contact_and_edit_a_company(
    seeded: Seeded,  # noqa: F811
    server: str,
    browser: Any,
) -> None:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _login(page, server)
    page.goto(f"{server}/contacts/{seeded.contacts['ada']}")
    page.locator("#edit-details summary").click()
    page.get_by_label("Name", exact=True).fill("Augusta Ada King")
    page.get_by_label("Title").fill("Countess of Lovelace")
    page.get_by_label("Phone").fill("+44 20 7946 0000")
    page.get_by_role("button", name="Save details").click()
    expect(page.get_by_role("heading", name="Augusta Ada King", level=1)).to_be_visible()
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("Countess of Lovelace")
    expect(facts).to_contain_text("set by you")
    history = page.locator("#history-title").locator("xpath=../..")
    expect(history).to_contain_text("set the title to “Countess of Lovelace”")
    _shot(page, "04-contact-corrected")

    page.goto(f"{server}/companies/{seeded.companies['acme']}")
    page.locator("#edit-company summary").click()
    page.get_by_label("Company name").fill("Acme Industries")
    page.get_by_label("Website").fill("https://acme.test")
    page.get_by_role("button", name="Save company").click()
    expect(page.get_by_role("heading", name="Acme Industries", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="https://acme.test")).to_be_visible()
    history = page.locator("#history-title").locator("xpath=../..")
    expect(history).to_contain_text("renamed it “Acme Industries”")
    _shot(page, "05-company-edited")


def test_confirm_a_contact_merge_and_a_company_merge(
    seeded: Seeded,  # noqa: F811
    server: str,
    browser: Any,
) -> None:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _login(page, server)
    page.goto(f"{server}/contacts/{seeded.contacts['ada']}")
    page.get_by_label("Find the other contact").fill("Linus")
    page.get_by_role("link", name="Merge Linus Torvalds into this contact").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Merge Linus Torvalds into Ada Lovelace?"
    )
    moves = page.locator(".merge-moves")
    expect(moves).to_contain_text("linus@acme.test")
    expect(moves).to_contain_text("2 messages")
    _shot(page, "06-contact-merge-confirm")
    page.get_by_role("button", name="Merge", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Merged Linus Torvalds into this contact")

    page.goto(f"{server}/companies/{seeded.companies['acme']}")
    page.locator("#merge-company summary").click()
    page.get_by_label("The other company's domain").fill("globex.example")
    page.get_by_role("button", name="Review merge").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Merge Globex into Acme Corp?")
    expect(page.locator(".merge-moves")).to_contain_text("Grace Hopper")
    _shot(page, "07-company-merge-confirm")
    page.get_by_role("button", name="Merge", exact=True).click()
    status = page.get_by_role("status")
    expect(status).to_contain_text("Merged Globex into this company: 1 person moved here")
    expect(page.locator("#people-title").locator("xpath=../..")).to_contain_text("Grace Hopper")
    _shot(page, "08-company-merged")
    status.get_by_role("button", name="Undo").click()
    expect(page.get_by_role("heading", name="Globex", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("Grace Hopper")


def test_lists_and_corrections_fit_a_phone(
    seeded: Seeded,  # noqa: F811
    server: str,
    browser: Any,
) -> None:
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    _login(page, server)
    _fits(page, 390)
    _shot(page, "09-phone-contacts")
    page.goto(f"{server}/lists")
    page.get_by_label("Name", exact=True).fill("Strong ones")
    page.get_by_label("Filter").fill("level:strong")
    page.get_by_role("button", name="Create list").click()
    expect(page.locator("table.contacts tbody tr")).to_have_count(1)
    _fits(page, 390)
    _shot(page, "10-phone-list")
    page.goto(
        f"{server}/contacts/{seeded.contacts['ada']}/merge?other_contact_id={seeded.contacts['grace']}"
    )
    _fits(page, 390)
    _shot(page, "11-phone-merge-confirm")
    page.goto(f"{server}/companies/{seeded.companies['acme']}")
    page.locator("#edit-company summary").click()
    _fits(page, 390)
    _shot(page, "12-phone-company")
