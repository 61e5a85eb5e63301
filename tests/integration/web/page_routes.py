"""Every page of the app (the GET routes of `fluffymail.web.ui`, read from the app itself, so a
new page is covered without editing a list) and the bad addresses to try on each: a path id
that is not a number and one nobody has, and bad values for every query parameter."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.routing import APIRoute

MISSING_ID = "999999999"
BAD_VALUES = ("nonsense", "-1", "x" * 300)
EXTRA_QUERIES = ("people=all", "sort=nonsense", "page=-1", "offset=-1")
# What pages must never show a person: validation wording, field paths, tracebacks, JSON errors.
DEVELOPER_TEXT = (
    "Input should be",
    "path.",
    "query.",
    "body.",
    "Traceback",
    "validation_error",
    "int_parsing",
    '{"error"',
    "refused by the database",
)


@dataclass(frozen=True, slots=True)
class BadUrl:
    url: str
    route: str
    bad_path: bool  # the id in the path is bad: the page must be a 404


def _routes(routes: Iterable[object]) -> Iterator[APIRoute]:
    """APIRoutes, also through included routers (FastAPI keeps them behind `original_router`)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif (router := getattr(route, "original_router", None)) is not None:
            yield from _routes(router.routes)


def page_routes(app: FastAPI) -> list[APIRoute]:
    """The app's pages: GET routes whose handlers live in `fluffymail.web.ui`."""
    found = [
        route
        for route in _routes(app.routes)
        if "GET" in route.methods and route.endpoint.__module__.startswith("fluffymail.web.ui.")
    ]
    assert len(found) >= 10, f"only {len(found)} pages found: did the app's routing change?"
    return found


def bad_urls(routes: Sequence[APIRoute]) -> list[BadUrl]:
    urls: list[BadUrl] = []
    for route in routes:
        names = [param.alias for param in route.dependant.path_params]
        for bad in ("abc", MISSING_ID) if names else ():
            urls.append(
                BadUrl(route.path_format.format(**dict.fromkeys(names, bad)), route.path, True)
            )
        base = route.path_format.format(**dict.fromkeys(names, MISSING_ID))
        queries = [
            f"{param.alias}={quote(value)}"
            for param in route.dependant.query_params
            for value in BAD_VALUES
        ]
        for query in (*queries, *EXTRA_QUERIES):
            urls.append(BadUrl(f"{base}?{query}", route.path, False))
    return urls


def developer_text(text: str) -> list[str]:
    """The developer wording found in `text` (none on a page for people)."""
    return [phrase for phrase in DEVELOPER_TEXT if phrase in text]
