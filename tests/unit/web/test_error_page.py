"""The error pages' words: each status and error gets a plain title, message and way back."""

from __future__ import annotations

from fluffymail.web.errors import INTERNAL, CsrfFailed, NotAllowed, Problem
from fluffymail.web.ui.error_page import describe, field_message


def _problem(status: int, code: str, page_message: str | None = None) -> Problem:
    return Problem(status=status, code=code, message="for developers", page_message=page_message)


def test_a_bad_id_in_the_path_is_a_404_for_the_thing_it_names() -> None:
    error = {"loc": ("path", "company_id"), "type": "int_parsing", "msg": "Input should be …"}
    problem = Problem(status=422, code="validation_error", message="x", errors=[error])
    page = describe(problem, "/companies/abc", {"company_id": "abc"})
    assert (page.status, page.title) == (404, "We couldn't find that company")
    assert page.links[0] == ("/companies", "All companies") and page.section == "companies"


def test_bad_query_values_are_worded_from_the_field_and_rule() -> None:
    errors = [
        {"loc": ("query", "offset"), "type": "greater_than_equal", "ctx": {"ge": 0}},
        {"loc": ("query", "q"), "type": "string_too_long", "ctx": {"max_length": 200}},
        {"loc": ("query", "limit"), "type": "less_than_equal", "ctx": {"le": 1000}},
    ]
    problem = Problem(status=422, code="validation_error", message="x", errors=errors)
    page = describe(problem, "/contacts", {})
    assert page.status == 400
    assert page.message == (
        "The position in the list must be a whole number of 0 or more."
        " The search is too long: use at most 200 characters."
        " The value of “limit” must be 1,000 or less."
    )
    assert field_message({"loc": ("body", "other_contact_id"), "type": "missing"}) == (
        "The contact to merge is missing."
    )


def test_other_statuses_have_their_own_titles_and_never_the_developer_message() -> None:
    admin = describe(_problem(403, "forbidden", str(NotAllowed())), "/jobs", {})
    assert (admin.title, admin.message) == ("Not for this account", "This needs an administrator.")
    csrf = describe(_problem(403, "csrf_failed", str(CsrfFailed())), "/logout", {})
    assert csrf.title == "This form has expired" and "reload the page" in csrf.message
    refused = describe(_problem(409, "conflict", "merge 4 was already undone"), "/contacts", {})
    assert refused.message == "Merge 4 was already undone."
    method = describe(_problem(405, "method_not_allowed"), "/contacts", {})
    assert method.message == "Follow a link or a button in FluffyMail to get there."
    failed = describe(INTERNAL, "/contacts/5", {"contact_id": "5"})
    assert failed.status == 500 and "for developers" not in failed.message
    nowhere = describe(_problem(404, "not_found"), "/nowhere", {})
    assert nowhere.title == "There's no page at this address"
    assert nowhere.links == (("/contacts", "Go to your contacts"),)
