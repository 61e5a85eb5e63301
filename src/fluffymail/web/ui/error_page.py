"""What an error page says: a plain title, what went wrong and where to go next, inside the
normal layout (with the navigation when the visitor is logged in).

Pages never show a validation error's field path or pydantic's wording: a path parameter that
is not an id names nothing (404, "We couldn't find that contact"), a bad query value is
worded from its name and rule (400, "The position in the list must be a whole number of 0 or
more."). The JSON API never comes here; it keeps its precise errors (web/errors.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from fastapi import Request
from starlette.responses import Response

from fluffymail.web.deps import optional_session
from fluffymail.web.errors import Problem
from fluffymail.web.services.accounts import Session

Link = tuple[str, str]  # (href, label)
HOME: Link = ("/contacts", "Go to your contacts")


@dataclass(frozen=True, slots=True, kw_only=True)
class Thing:
    """What a path parameter names, for "We couldn't find that …" and the way back."""

    noun: str
    hint: str
    back: Link


THINGS: dict[str, Thing] = {
    "contact_id": Thing(
        noun="contact",
        hint="It may have been merged into another contact or deleted.",
        back=("/contacts", "All contacts"),
    ),
    "merge_id": Thing(
        noun="merge", hint="It may have been undone already.", back=("/contacts", "All contacts")
    ),
    "company_id": Thing(
        noun="company",
        hint="It may have been merged or deleted.",
        back=("/companies", "All companies"),
    ),
    "message_id": Thing(
        noun="message",
        hint="It may have been deleted along with its mailbox.",
        back=("/contacts", "Your contacts"),
    ),
    "connection_id": Thing(
        noun="mailbox",
        hint="It may have been deleted.",
        back=("/connections", "Your connections"),
    ),
    "job_id": Thing(
        noun="job", hint="Finished jobs are cleared after a while.", back=("/jobs", "All jobs")
    ),
    "list_id": Thing(
        noun="list",
        hint="It may have been deleted, or it is someone else's and not shared.",
        back=("/lists", "All lists"),
    ),
    "company_merge_id": Thing(
        noun="company merge",
        hint="It may have been undone already.",
        back=("/companies", "All companies"),
    ),
    "token": Thing(
        noun="invite link",
        hint="Check that it was copied whole, or ask the person who sent it for a new one.",
        back=("/team", "Your team"),
    ),
    "invite_id": Thing(
        noun="invite", hint="It may have been used or revoked.", back=("/team", "Your team")
    ),
    "member_id": Thing(
        noun="teammate", hint="They may have left the workspace.", back=("/team", "Your team")
    ),
    "name": Thing(
        noun="queue", hint="Queues appear once work is sent to them.", back=("/jobs", "All jobs")
    ),
}
# The first segment of a page's path: its place in the navigation, and the way back to it.
SECTIONS: dict[str, tuple[str, Link]] = {
    "contacts": ("contacts", ("/contacts", "All contacts")),
    "messages": ("contacts", ("/contacts", "Your contacts")),
    "companies": ("companies", ("/companies", "All companies")),
    "connections": ("connections", ("/connections", "Your connections")),
    "jobs": ("jobs", ("/jobs", "All jobs")),
    "queues": ("jobs", ("/jobs", "All jobs")),
    "lists": ("lists", ("/lists", "All lists")),
    "team": ("team", ("/team", "Your team")),
}
# Query and form fields by name, as a sentence starts.
FIELDS: dict[str, str] = {
    "offset": "The position in the list",
    "q": "The search",
    "level": "The strength level",
    "sort": "The sort order",
    "people": "The people filter",
    "cold": "The going-cold filter",
    "company": "The company filter",
    "merged": "The merge number",
    "undone": "The merge number",
    "other_contact_id": "The contact to merge",
    "other_company_id": "The company to merge",
    "domain": "The company's domain",
    "bulk_list": "The list number",
    "next": "The page to return to",
    "gmail": "The Gmail notice",
    "visibility": "The privacy choice",
}
TITLES: dict[int | str, str] = {  # by error code first, then by status
    "csrf_failed": "This form has expired",
    400: "Something in that address isn't right",
    403: "Not for this account",
    405: "That page can't be opened this way",
    409: "That can't be done right now",
    410: "This link no longer works",
    412: "That was changed meanwhile",
    413: "That is too large",
}
GENERIC: dict[int, str] = {
    400: "FluffyMail could not make sense of the address or the form.",
    403: "This account cannot open that page.",
    405: "Follow a link or a button in FluffyMail to get there.",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorPage:
    status: int
    title: str
    message: str
    links: tuple[Link, ...]
    section: str | None = None


def describe(problem: Problem, path: str, path_params: Mapping[str, Any]) -> ErrorPage:
    """The page for `problem` on `path` (whose route matched `path_params`, if any)."""
    section, back = SECTIONS.get(path.strip("/").split("/")[0], (None, HOME))
    bad_path = [e for e in problem.errors if e.get("loc", ("",))[0] == "path"]
    if problem.status == 404 or bad_path:
        names = [str(e["loc"][-1]) for e in bad_path] or list(path_params)
        thing = next((THINGS[name] for name in names if name in THINGS), None)
        if thing is None:
            return ErrorPage(
                status=404,
                title="There's no page at this address",
                message="Check the address, or go back and follow a link.",
                links=_links(back, HOME),
                section=section,
            )
        return ErrorPage(
            status=404,
            title=f"We couldn't find that {thing.noun}",
            message=thing.hint,
            links=_links(thing.back, HOME),
            section=section,
        )
    if problem.errors:
        message = " ".join(dict.fromkeys(field_message(e) for e in problem.errors))
        return ErrorPage(
            status=400,
            title=TITLES[400],
            message=message,
            links=_links(back, HOME),
            section=section,
        )
    if problem.status >= 500:
        return ErrorPage(
            status=problem.status,
            title="Something went wrong on our side",
            message="FluffyMail failed and logged the error. Please try again in a moment.",
            links=_links(back, HOME),
            section=section,
        )
    message = _sentence(problem.page_message) if problem.page_message else None
    return ErrorPage(
        status=problem.status,
        title=TITLES.get(problem.code) or TITLES.get(problem.status, "That didn't work"),
        message=message or GENERIC.get(problem.status, "Please go back and try again."),
        links=_links(back, HOME),
        section=section,
    )


def field_message(error: Mapping[str, Any]) -> str:
    """One validation error in plain words, from the field's name and the rule it broke."""
    loc: Sequence[Any] = error.get("loc") or ("",)
    name = str(loc[-1])
    label = FIELDS.get(name, f"The value of “{name}”")
    ctx = error.get("ctx") or {}
    kind = error.get("type", "")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{label} must be a whole number."
    if kind == "greater_than_equal":
        return f"{label} must be a whole number of {ctx.get('ge')} or more."
    if kind == "greater_than":
        return f"{label} must be more than {ctx.get('gt')}."
    if kind == "less_than_equal":
        return f"{label} must be {_number(ctx.get('le'))} or less."
    if kind == "string_too_long":
        return f"{label} is too long: use at most {_number(ctx.get('max_length'))} characters."
    if kind == "missing":
        return f"{label} is missing."
    return f"{label} is not one FluffyMail understands."


async def render(request: Request, problem: Problem) -> Response:
    """The error page for `problem`, in the layout; the navigation shows when logged in."""
    page = describe(problem, request.url.path, request.path_params)
    context = {
        "session": await _session(request),
        "active": page.section,
        "status": page.status,
        "title": page.title,
        "message": page.message,
        "links": page.links,
    }
    templates = request.app.state.templates
    return templates.TemplateResponse(request, "error.html", context, status_code=page.status)


async def _session(request: Request) -> Session | None:
    """The visitor's session for the navigation; none when the database cannot say (the page
    may be reporting exactly that)."""
    state = getattr(request.app.state, "fm", None)
    if state is None:
        return None
    try:
        return await optional_session(request, state)
    except psycopg.Error:
        return None


def _links(*links: Link) -> tuple[Link, ...]:
    """The links in order, the first of each address only."""
    distinct: dict[str, Link] = {}
    for href, label in links:
        distinct.setdefault(href, (href, label))
    return tuple(distinct.values())


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)
