"""Schemathesis against the OpenAPI schema of the JSON routes, as an admin with an API token:
no 5xx, and responses match the documented schema."""

from __future__ import annotations

import asyncio
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from psycopg_pool import AsyncConnectionPool
from schemathesis.specs.openapi.checks import positive_data_acceptance

from fluffymail.queue import JobQueue
from fluffymail.web.services import accounts
from tests.integration.web.conftest import PASSWORD, failed_job

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))  # per operation; more for a deep run
PARTS = 4  # the operations in four tests of ~20 s, which the pytest workers share
# A test login to a fuzzed host would reach for the network (DNS): covered by its own tests.
# Revoking a token by a fuzzed id could revoke the fuzzer's own: covered by its own tests.
SKIPPED = {
    ("POST", "/api/connections/imap"),
    ("DELETE", "/api/me/tokens/{token_id}"),
}
# Well-formed requests these refuse with a 4xx by design (not a mailbox, a bad OAuth code, a
# wrong current password, a file that is no CSV or vCard).
REFUSE_VALID_INPUT = {
    "/api/connections/upload",
    "/api/imports/contacts",
    "/api/imports/companies",
    "/api/connections/gmail/callback",
    "/api/me/password",
    "/api/meetings/import",  # a body that is no iCalendar file
}
# Likewise by operation: a list filter that does not parse, an address that is no address, a
# phone without digits, a company domain or website that is none, a view given members, a
# contact that is the user's own address, a webhook URL on a private network or that does not
# resolve (each answers 400 with the reason); an invite token that is none (404) or spent
# (410); the workspace's last owner leaving or stepping down (409); an Idempotency-Key drawn
# again with another body (422); a message-list cursor the list never gave out (400); a note
# changed with an If-Match naming another version of it (412); a note or tag put on a company
# merged into another (409).
REFUSE_VALID_OPERATIONS = {
    ("PATCH", "/api/notes/{note_id}"),
    ("DELETE", "/api/notes/{note_id}"),
    ("PUT", "/api/companies/{company_id}/tags/{tag_id}"),
    ("POST", "/api/webhooks"),
    ("PATCH", "/api/webhooks/{webhook_id}"),
    ("POST", "/api/team/join"),
    ("PATCH", "/api/team/members/{member_id}"),
    ("DELETE", "/api/team/members/{member_id}"),
    ("POST", "/api/team/invites"),
    ("POST", "/api/tags"),
    ("POST", "/api/contacts/{contact_id}/notes"),
    ("POST", "/api/companies/{company_id}/notes"),
    ("GET", "/api/messages"),
    ("POST", "/api/contacts"),
    ("PATCH", "/api/contacts/{contact_id}"),
    ("POST", "/api/contacts/{contact_id}/visibility"),
    ("POST", "/api/contacts/visibility"),
    ("PATCH", "/api/companies/{company_id}"),
    ("POST", "/api/lists"),
    ("PATCH", "/api/lists/{list_id}"),
    ("POST", "/api/lists/{list_id}/contacts"),
    ("POST", "/api/lists/{list_id}/contacts/remove"),
    ("GET", "/api/contacts/export"),
}


async def _seed(pool: AsyncConnectionPool) -> str:
    account, _ = await accounts.create_user(pool, "fuzz@example.com", PASSWORD, is_admin=True)
    queue = JobQueue(pool, listen=False)
    await failed_job(queue)
    await queue.create_queue("demo-dead")
    return await accounts.create_api_token(pool, account.id, "schemathesis")


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.filterwarnings(
    "ignore::hypothesis.errors.HypothesisDeprecationWarning"
)  # schemathesis draws with `random`
@pytest.mark.parametrize("part", range(PARTS))
def test_openapi__no_server_errors(part: int, live_server: str, db_url: str) -> None:
    async def seed() -> str:
        async with AsyncConnectionPool(
            db_url, min_size=1, max_size=2, kwargs={"autocommit": True}
        ) as pool:
            return await _seed(pool)

    token = asyncio.run(seed())
    schema = schemathesis.openapi.from_url(f"{live_server}/openapi.json")
    headers = {"Authorization": f"Bearer {token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations[part::PARTS]:
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        refuses = operation.path in REFUSE_VALID_INPUT or (
            (operation.method.upper(), operation.path) in REFUSE_VALID_OPERATIONS
        )
        excluded = [positive_data_acceptance] if refuses else []

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            assert response.status_code < 500, (case.method, case.formatted_path, response.text)
            case.validate_response(response, excluded_checks=excluded)  # noqa: B023 - run at once

        check()
