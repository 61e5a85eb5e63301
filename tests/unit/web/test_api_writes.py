"""Everything a page can do, the JSON API can do too: every form route of `fluffymail.web.ui`
(POST, PUT, PATCH, DELETE) has a documented API counterpart in the OpenAPI schema, unless it is
listed as a page-only route with the reason. A new form route fails here until it is mapped."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest
from fastapi.routing import APIRoute

from fluffymail.config import Settings
from fluffymail.web import ui
from fluffymail.web.app import create_app

# Page-only: signing in and out (the API authenticates with tokens), and making an account
# from an invite link (the API joins with an account it already has: POST /api/team/join).
PAGE_ONLY = {
    ("POST", "/login"),
    ("POST", "/logout"),
    ("POST", "/invite/{token}/signup"),
}
COUNTERPARTS: dict[tuple[str, str], tuple[str, str]] = {
    ("POST", "/account/password"): ("POST", "/api/me/password"),
    ("POST", "/account/tokens/{token_id}/revoke"): ("DELETE", "/api/me/tokens/{token_id}"),
    ("POST", "/connections/{connection_id}/sync"): (
        "POST",
        "/api/connections/{connection_id}/sync",
    ),
    ("POST", "/connections/{connection_id}/pause"): (
        "POST",
        "/api/connections/{connection_id}/pause",
    ),
    ("POST", "/connections/{connection_id}/resume"): (
        "POST",
        "/api/connections/{connection_id}/resume",
    ),
    ("POST", "/connections/{connection_id}/visibility"): (
        "PATCH",
        "/api/connections/{connection_id}",
    ),
    ("POST", "/connections/{connection_id}/delete"): (
        "DELETE",
        "/api/connections/{connection_id}",
    ),
    ("POST", "/connections/upload"): ("POST", "/api/connections/upload"),
    ("POST", "/connections/ics"): ("POST", "/api/meetings/import"),
    ("POST", "/connections/imap"): ("POST", "/api/connections/imap"),
    ("POST", "/connections/{connection_id}/people"): (
        "POST",
        "/api/connections/{connection_id}/people",
    ),
    ("POST", "/connections/{connection_id}/policy"): ("PATCH", "/api/connections/{connection_id}"),
    ("POST", "/contacts/{contact_id}/merge"): ("POST", "/api/contacts/{contact_id}/merge"),
    ("POST", "/contacts/merges/{merge_id}/undo"): ("POST", "/api/contacts/merges/{merge_id}/undo"),
    ("POST", "/contacts"): ("POST", "/api/contacts"),
    ("POST", "/contacts/{contact_id}/edit"): ("PATCH", "/api/contacts/{contact_id}"),
    ("POST", "/contacts/{contact_id}/visibility"): (
        "POST",
        "/api/contacts/{contact_id}/visibility",
    ),
    ("POST", "/companies/{company_id}/edit"): ("PATCH", "/api/companies/{company_id}"),
    ("POST", "/companies/{company_id}/merge"): ("POST", "/api/companies/{company_id}/merge"),
    ("POST", "/companies/merges/{company_merge_id}/undo"): (
        "POST",
        "/api/companies/merges/{company_merge_id}/undo",
    ),
    ("POST", "/followups/{followup_id}/done"): ("POST", "/api/followups/{followup_id}/done"),
    ("POST", "/followups/{followup_id}/dismiss"): (
        "POST",
        "/api/followups/{followup_id}/dismiss",
    ),
    ("POST", "/followups/{followup_id}/snooze"): ("POST", "/api/followups/{followup_id}/snooze"),
    ("POST", "/followups/{followup_id}/reopen"): ("POST", "/api/followups/{followup_id}/reopen"),
    ("POST", "/followups/settings"): ("PUT", "/api/followups/settings"),
    ("POST", "/followups/recompute"): ("POST", "/api/followups/recompute"),
    ("POST", "/contacts/{contact_id}/cadence"): ("PUT", "/api/contacts/{contact_id}/cadence"),
    ("POST", "/contacts/cadence"): ("POST", "/api/contacts/cadence"),
    ("POST", "/you/aliases/{address}/confirm"): (
        "POST",
        "/api/me/identity/aliases/{address}/confirm",
    ),
    ("POST", "/you/aliases/{address}/reject"): (
        "POST",
        "/api/me/identity/aliases/{address}/reject",
    ),
    ("POST", "/jobs/{job_id}/retry"): ("POST", "/api/jobs/{job_id}/retry"),
    ("POST", "/queues/{name}/redrive"): ("POST", "/api/queues/{name}/redrive"),
    ("POST", "/queues/{name}/{action}"): ("POST", "/api/queues/{name}/pause"),  # and /resume
    ("POST", "/lists"): ("POST", "/api/lists"),
    ("POST", "/lists/{list_id}/edit"): ("PATCH", "/api/lists/{list_id}"),
    ("POST", "/lists/{list_id}/delete"): ("DELETE", "/api/lists/{list_id}"),
    ("POST", "/lists/{list_id}/remove"): ("POST", "/api/lists/{list_id}/contacts/remove"),
    ("POST", "/contacts/{contact_id}/notes"): ("POST", "/api/contacts/{contact_id}/notes"),
    ("POST", "/companies/{company_id}/notes"): ("POST", "/api/companies/{company_id}/notes"),
    ("POST", "/notes/{note_id}/edit"): ("PATCH", "/api/notes/{note_id}"),
    ("POST", "/notes/{note_id}/delete"): ("DELETE", "/api/notes/{note_id}"),
    # Tagging from a page names the tag or makes it: POST /api/tags, then PUT.
    ("POST", "/contacts/{contact_id}/tags"): ("PUT", "/api/contacts/{contact_id}/tags/{tag_id}"),
    ("POST", "/contacts/{contact_id}/tags/{tag_id}/remove"): (
        "DELETE",
        "/api/contacts/{contact_id}/tags/{tag_id}",
    ),
    ("POST", "/companies/{company_id}/tags"): ("PUT", "/api/companies/{company_id}/tags/{tag_id}"),
    ("POST", "/companies/{company_id}/tags/{tag_id}/remove"): (
        "DELETE",
        "/api/companies/{company_id}/tags/{tag_id}",
    ),
    # The list's bulk form: tag and untag here; add to a list, hide and export have their own.
    ("POST", "/contacts/bulk"): ("POST", "/api/contacts/bulk"),
    ("POST", "/tags/{tag_id}/edit"): ("PATCH", "/api/tags/{tag_id}"),
    ("POST", "/tags/{tag_id}/delete"): ("DELETE", "/api/tags/{tag_id}"),
    ("POST", "/team/invites"): ("POST", "/api/team/invites"),
    ("POST", "/team/invites/{invite_id}/revoke"): ("DELETE", "/api/team/invites/{invite_id}"),
    ("POST", "/team/members/{member_id}/remove"): ("DELETE", "/api/team/members/{member_id}"),
    ("POST", "/team/members/{member_id}/role"): ("PATCH", "/api/team/members/{member_id}"),
    ("POST", "/team/rename"): ("PATCH", "/api/team"),
    ("POST", "/invite/{token}"): ("POST", "/api/team/join"),
    ("POST", "/webhooks"): ("POST", "/api/webhooks"),
    ("POST", "/webhooks/{webhook_id}/edit"): ("PATCH", "/api/webhooks/{webhook_id}"),
    ("POST", "/webhooks/{webhook_id}/secret"): ("POST", "/api/webhooks/{webhook_id}/secret"),
    ("POST", "/webhooks/{webhook_id}/test"): ("POST", "/api/webhooks/{webhook_id}/test"),
    ("POST", "/webhooks/{webhook_id}/deliveries/{delivery_id}/resend"): (
        "POST",
        "/api/webhooks/{webhook_id}/deliveries/{delivery_id}/resend",
    ),
    ("POST", "/webhooks/{webhook_id}/delete"): ("DELETE", "/api/webhooks/{webhook_id}"),
    ("POST", "/import"): ("POST", "/api/imports/contacts"),  # companies: /api/imports/companies
    ("POST", "/import/{import_id}/confirm"): ("POST", "/api/imports/{import_id}/confirm"),
}
BULK_ALSO = [  # what the contacts list's bulk form does besides tagging
    ("POST", "/api/lists/{list_id}/contacts"),
    ("POST", "/api/contacts/visibility"),
    ("POST", "/api/contacts/export"),
    ("POST", "/api/queues/{name}/resume"),
    ("POST", "/api/tags"),
]


def _form_routes() -> set[tuple[str, str]]:
    found = set()
    for info in pkgutil.iter_modules(ui.__path__):
        router = getattr(importlib.import_module(f"{ui.__name__}.{info.name}"), "router", None)
        for route in getattr(router, "routes", []):
            if isinstance(route, APIRoute):
                found |= {(m, route.path) for m in route.methods - {"GET", "HEAD"}}
    return found


@pytest.fixture(scope="module")
def operations(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], dict]:
    data_dir: Path = tmp_path_factory.mktemp("api-writes")
    settings = Settings(
        database_url="postgresql://unused@127.0.0.1/unused",
        migrate_on_start=False,
        data_dir=data_dir,
    )
    schema = create_app(settings).openapi()
    return {
        (method.upper(), path): operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    }


def test_every_form_route_has_a_documented_api_counterpart(
    operations: dict[tuple[str, str], dict],
) -> None:
    forms = _form_routes()
    unmapped = forms - PAGE_ONLY - set(COUNTERPARTS)
    assert not unmapped, f"give these page routes an API counterpart: {sorted(unmapped)}"
    assert not (set(COUNTERPARTS) | PAGE_ONLY) - forms, "stale entries: remove them"
    for wanted in [*COUNTERPARTS.values(), *BULK_ALSO]:
        assert wanted in operations, f"no {wanted} in the OpenAPI schema"
        operation = operations[wanted]
        assert operation.get("summary"), f"{wanted} is not documented"
        assert any(status.startswith("2") for status in operation["responses"]), wanted


def test_creates_take_an_idempotency_key(operations: dict[tuple[str, str], dict]) -> None:
    creates = [op for (method, _), op in operations.items() if method == "POST"]
    keyed = {
        key
        for key, op in operations.items()
        if any(p["name"] == "Idempotency-Key" for p in op.get("parameters", []))
    }
    assert len(creates) > len(keyed)
    assert {
        ("POST", "/api/contacts"),
        ("POST", "/api/tags"),
        ("POST", "/api/lists"),
        ("POST", "/api/contacts/{contact_id}/notes"),
        ("POST", "/api/companies/{company_id}/notes"),
        ("POST", "/api/team/invites"),
        ("POST", "/api/connections/imap"),
    } == keyed
    for key in keyed:  # each says it creates (201) and documents the key's refusals
        assert {"201", "409", "422"} <= set(operations[key]["responses"]), key
