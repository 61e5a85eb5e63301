"""A person writes a note on a contact (Markdown, a mention, a hostile link), edits it, sees it
in the timeline and the history; then ticks three contacts in the list, tags them in one go,
filters by the tag and untags one; and the list fits a phone. Screenshots go to the test's
tmp dir (printed on failure); look at them when changing these pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.browser.test_contacts import EMAIL, PASSWORD, _shot, seeded  # noqa: F401
from tests.integration.web.contact_seed import Seeded


def _login(page: Any, server: str) -> None:
    page.goto(f"{server}/contacts")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server}/contacts")


def test_write_a_note_then_tag_three_contacts_in_bulk(
    seeded: Seeded,  # noqa: F811
    server: str,
    browser: Any,
    tmp_path: Path,
) -> None:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _login(page, server)
    ada = seeded.contacts["ada"]
    page.goto(f"{server}/contacts/{ada}")
    page.get_by_label("Add a note").fill(
        "Met at the **Royal Society**; ask @Grace for an intro.\n\n"
        "- [agenda](https://example.com/agenda)\n- [bad](javascript:alert(1))\n\n"
        "<script>alert(1)</script>"
    )
    page.get_by_role("button", name="Save note").click()
    note = page.locator("article.note").first
    expect(note.locator("strong", has_text="Royal Society")).to_be_visible()
    expect(note.get_by_role("link", name="agenda")).to_have_attribute("rel", "noopener nofollow")
    assert note.get_by_role("link", name="bad").count() == 0
    expect(note.locator(".note-body")).to_contain_text("<script>alert(1)</script>")
    assert note.locator("script").count() == 0
    expect(note.get_by_role("link", name="Grace Hopper")).to_be_visible()
    expect(page.locator("#history-title").locator("xpath=..").locator("xpath=..")).to_contain_text(
        "added a note"
    )
    _shot(page, tmp_path, "01-note-written")

    note.get_by_text("Edit").click()
    note.get_by_label("Note text").fill("Met at the *Royal Society*. Follow up in May.")
    note.get_by_role("button", name="Save").click()
    note = page.locator("article.note").first
    expect(note).to_contain_text("Follow up in May")
    expect(note).to_contain_text("edited")
    _shot(page, tmp_path, "02-note-edited")

    # The mentioned contact shows the note too.
    page.goto(f"{server}/contacts/{seeded.contacts['grace']}")
    expect(page.locator("article.note")).to_have_count(0)  # the edit dropped the mention

    page.goto(f"{server}/contacts")
    for name in ("Ada Lovelace", "Grace Hopper", "Linus Torvalds"):
        page.get_by_label(f"Tick {name}").check()
    expect(page.locator("#bulk-count")).to_have_text("3 ticked")
    page.get_by_label("New tag", exact=True).fill("Investor")
    page.get_by_role("button", name="Tag", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Tagged 3 contacts")
    rows = page.locator("table.contacts tbody tr")
    expect(rows.locator(".tag", has_text="Investor")).to_have_count(3)
    _shot(page, tmp_path, "03-tagged-in-bulk")

    page.locator("#contact-filters").get_by_label("Tag").select_option(label="Investor (3)")
    expect(rows).to_have_count(3)
    page.get_by_label("Tick Linus Torvalds").check()
    page.locator("#bulk-form").get_by_label("Tag", exact=True).select_option(label="Investor")
    page.get_by_role("button", name="Untag").click()
    expect(page.get_by_role("status")).to_contain_text("Untagged 1 contact")
    expect(rows).to_have_count(2)  # still filtered by the tag
    _shot(page, tmp_path, "04-filtered-untagged")

    page.locator("#manage-tags summary").click()
    page.get_by_label("Name of Investor").fill("Angel")
    page.get_by_label("Colour of Investor").select_option("purple")
    page.get_by_role("button", name="Save tag Investor").click()
    expect(rows.locator(".tag-purple", has_text="Angel")).to_have_count(2)
    _shot(page, tmp_path, "04b-tag-renamed")

    page.goto(f"{server}/contacts/{ada}")
    history = page.locator("#history-title").locator("xpath=../..")
    expect(history).to_contain_text("tagged it")
    expect(history).to_contain_text("edited a note")


def test_contacts_list_fits_a_phone(
    seeded: Seeded,  # noqa: F811
    server: str,
    browser: Any,
    tmp_path: Path,
) -> None:
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    _login(page, server)
    # Every cell a person needs is on screen, none cut off at the right edge.
    for cell in ("th[scope=row]", ".col-company", ".col-strength", ".col-last"):
        box = page.locator(f"table.contacts tbody tr >> nth=3 >> {cell}").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, (cell, box)
    _shot(page, tmp_path, "05-phone-contacts")
    page.goto(f"{server}/contacts/{seeded.contacts['ada']}")
    page.get_by_label("Add a note").fill("From my *phone*")
    page.get_by_role("button", name="Save note").click()
    expect(page.locator("article.note")).to_contain_text("From my phone")
    _shot(page, tmp_path, "06-phone-contact")


def test_company_note_and_tag(
    seeded: Seeded,  # noqa: F811
    server: str,
    browser: Any,
    tmp_path: Path,
) -> None:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _login(page, server)
    page.goto(f"{server}/companies/{seeded.companies['acme']}")
    page.get_by_text("Add tag").click()
    page.get_by_label("New tag").fill("Customer")
    page.get_by_label("Colour").select_option("green")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("#tags .tag-green", has_text="Customer")).to_be_visible()
    page.get_by_label("Add a note").fill("Renewal in **May**; [contract](https://example.com/c)")
    page.get_by_role("button", name="Save note").click()
    expect(page.locator("article.note strong", has_text="May")).to_be_visible()
    history = page.locator("#history-title").locator("xpath=../..")
    expect(history).to_contain_text("tagged it")
    expect(history).to_contain_text("added a note")
    _shot(page, tmp_path, "07-company")
    page.get_by_role("button", name="Remove tag Customer").click()
    expect(page.locator("#tags .tag")).to_have_count(0)
