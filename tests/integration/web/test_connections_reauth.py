"""A refused password is never tried again: against a real Dovecot, a changed password marks the
connection `needs_reauth`, suspends its schedule, refuses "Sync now", and no sign-in reaches
the server again until the user gives the new password."""

from __future__ import annotations

import asyncio
import html
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from click.testing import Result
from psycopg_pool import AsyncConnectionPool
from typer.testing import CliRunner

from fluffymail.cli import app
from fluffymail.config import Settings
from fluffymail.integrations.mail.source import AuthError
from fluffymail.queue import JobQueue
from tests.helpers import wait_for
from tests.integration.imap.conftest import PASSWORD, Dovecot, dovecot, imap_user, seed  # noqa: F401
from tests.integration.web.conftest import User, login, session_csrf
from tests.integration.web.connections_support import (
    KEY,
    connection_settings,
    data_dir,  # noqa: F401  (fixture)
    run_sync,
    running_app,
    sample_message,
)

NEW_PASSWORD = "battery-staple"


@pytest.fixture
def settings(db_url: str, data_dir: Path, dovecot: Dovecot) -> Settings:  # noqa: F811
    return connection_settings(db_url, data_dir, **dovecot.settings)  # loopback allowed


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async for _, http in running_app(settings):
        yield http


def change_password(server: Dovecot, user: str, password: str) -> None:
    """What the user did at their provider: the server now refuses the stored password."""
    passwd = server.root / "passwd"
    lines = passwd.read_text().splitlines()
    changed = [
        re.sub(r"^([^:]+):\{PLAIN\}[^:]*:", rf"\1:{{PLAIN}}{password}:", line)
        if line.startswith(f"{user}:")
        else line
        for line in lines
    ]
    before = passwd.stat().st_mtime
    passwd.write_text("\n".join(changed) + "\n")
    os.utime(passwd, (before + 2, before + 2))  # a new mtime, even within the same second


def sign_ins(server: Dovecot, user: str) -> int:
    """Sign-in attempts (refused or not) for `user` in Dovecot's log."""
    return len(re.findall(rf"imap-login: .*user=<{re.escape(user)}>", server.log()))


async def refusals(server: Dovecot, user: str) -> int:
    """Refused sign-ins for `user`, once Dovecot has logged the one just made."""
    pattern = rf"imap-login: .*auth failed.*user=<{re.escape(user)}>"
    await wait_for(async_true(lambda: bool(re.search(pattern, server.log()))))
    return len(re.findall(pattern, server.log()))


def async_true(check: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def predicate() -> bool:
        return check()

    return predicate


async def test_refused_password__no_sign_in_again_until_new_credentials(
    api: httpx.AsyncClient,
    alice: User,
    dovecot: Dovecot,  # noqa: F811  (fixtures imported above)
    imap_user: str,  # noqa: F811
    seed,  # noqa: F811
    pool: AsyncConnectionPool,
    settings: Settings,
    jobs: JobQueue,
) -> None:
    seed(imap_user, "INBOX", [sample_message(n) for n in range(3)])
    account = {"host": dovecot.host, "port": dovecot.port, "security": "plain",
               "username": imap_user, "password": PASSWORD}  # fmt: skip
    created = await api.post("/api/connections/imap", headers=alice.auth, json=account)
    assert created.status_code == 201, created.text
    connection_id = created.json()["connection"]["id"]
    key = f"connection-{connection_id}"
    assert (await run_sync(pool, settings, connection_id)).stored == 3

    seed(imap_user, "INBOX", [sample_message(10)])  # new mail, read once signed in again
    change_password(dovecot, imap_user, NEW_PASSWORD)
    await asyncio.sleep(1.1)  # Dovecot looks at the file at most once per second
    with pytest.raises(AuthError):
        await run_sync(pool, settings, connection_id)
    assert await refusals(dovecot, imap_user) == 1
    refused_at = sign_ins(dovecot, imap_user)
    view = (await api.get(f"/api/connections/{connection_id}", headers=alice.auth)).json()
    assert view["status"] == "needs_reauth"
    assert key not in [s["key"] for s in await jobs.get_schedules()]  # schedule suspended

    # the sync job the schedule had already queued runs, and does not sign in
    assert (await run_sync(pool, settings, connection_id)).status == "needs_reauth"
    # nor does "Sync now": it says what to do instead
    sync_now = await api.post(f"/api/connections/{connection_id}/sync", headers=alice.auth)
    assert sync_now.status_code == 409
    error = sync_now.json()["error"]
    assert error["code"] == "needs_reauth" and "current password" in error["message"]
    # nor does pausing and resuming it
    await api.post(f"/api/connections/{connection_id}/pause", headers=alice.auth)
    resumed = await api.post(f"/api/connections/{connection_id}/resume", headers=alice.auth)
    assert resumed.status_code < 300, resumed.text
    assert key not in [s["key"] for s in await jobs.get_schedules()]
    assert (await run_sync(pool, settings, connection_id)).status == "needs_reauth"
    assert sign_ins(dovecot, imap_user) == refused_at
    assert await refusals(dovecot, imap_user) == 1

    # the user gives the new password: a test sign-in, then syncing resumes on its schedule
    again = await api.post(
        "/api/connections/imap", headers=alice.auth, json={**account, "password": NEW_PASSWORD}
    )
    assert again.status_code == 200, again.text
    assert again.json()["connection"]["status"] == "ok"
    assert key in [s["key"] for s in await jobs.get_schedules()]
    assert (await run_sync(pool, settings, connection_id)).stored == 1


async def test_command_line__shows_the_refusal_and_takes_the_new_password(
    api: httpx.AsyncClient,
    alice: User,
    dovecot: Dovecot,  # noqa: F811  (fixtures imported above)
    imap_user: str,  # noqa: F811
    seed,  # noqa: F811
    pool: AsyncConnectionPool,
    settings: Settings,
    jobs: JobQueue,
    db_url: str,
    data_dir: Path,  # noqa: F811
) -> None:
    seed(imap_user, "INBOX", [sample_message(n) for n in range(2)])
    env = {
        "DATABASE_URL": db_url,
        "FLUFFYMAIL_SECRET_KEY": KEY,
        "FLUFFYMAIL_DATA_DIR": str(data_dir),
        "FLUFFYMAIL_OUTBOUND_ALLOW": dovecot.settings["outbound_allow"],
        "FLUFFYMAIL_OUTBOUND_PORTS": dovecot.settings["outbound_ports"],
        "FLUFFYMAIL_LOG_LEVEL": "WARNING",
    }

    async def cli(*args: str, password: str | None = None) -> Result:
        return await asyncio.to_thread(CliRunner().invoke, app, list(args), input=password, env=env)

    imap_args = ["connections", "imap", "--user", alice.account.email, "--host", dovecot.host,
                 "--port", str(dovecot.port), "--security", "plain", "--username", imap_user,
                 "--password-stdin"]  # fmt: skip
    added = await cli(*imap_args, password=f"{PASSWORD}\n")
    assert added.exit_code == 0, added.output
    [view] = (await api.get("/api/connections", headers=alice.auth)).json()
    assert (await run_sync(pool, settings, view["id"])).stored == 2

    change_password(dovecot, imap_user, NEW_PASSWORD)
    await asyncio.sleep(1.1)  # Dovecot looks at the file at most once per second
    with pytest.raises(AuthError):
        await run_sync(pool, settings, view["id"])
    listed = await cli("connections", "list", "--user", alice.account.email)
    assert "needs_reauth" in listed.output
    refused = await cli("connections", "sync", str(view["id"]), "--user", alice.account.email)
    assert refused.exit_code == 1 and "current password" in refused.output

    wrong = await cli(*imap_args, password=f"{PASSWORD}\n")  # still the old one: refused
    assert wrong.exit_code == 1 and "refused" in wrong.output
    fixed = await cli(*imap_args, password=f"{NEW_PASSWORD}\n")
    assert fixed.exit_code == 0 and "updated; state ok" in fixed.output, fixed.output
    assert f"connection-{view['id']}" in [s["key"] for s in await jobs.get_schedules()]


def _field(page: str, name: str) -> str:
    """The value the IMAP form shows for `name` (the selected option for `security`)."""
    if name == "security":
        security = page[page.index('id="imap-security"') :]
        match = re.search(r'<option value="(\w+)" selected>', security)
    else:
        match = re.search(rf'id="imap-{name}" name="{name}" type="\w+" value="([^"]*)"', page)
    assert match, f"no {name} field"
    return html.unescape(match[1])


async def test_the_page__enter_new_password_keeps_the_saved_details_and_says_what_happens(
    api: httpx.AsyncClient,
    alice: User,
    dovecot: Dovecot,  # noqa: F811  (fixtures imported above)
    imap_user: str,  # noqa: F811
    pool: AsyncConnectionPool,
    settings: Settings,
) -> None:
    """ "Enter new password" led to an empty form: typed again with another port, security or
    spelling, the account became a second connection and the first one kept waiting; a name
    given when adding it again was ignored; resuming it said "syncing now"."""
    account = {"host": dovecot.host, "port": dovecot.port, "security": "plain",
               "username": imap_user, "password": PASSWORD, "folders": ["INBOX"]}  # fmt: skip
    created = await api.post("/api/connections/imap", headers=alice.auth, json=account)
    connection_id = created.json()["connection"]["id"]
    change_password(dovecot, imap_user, NEW_PASSWORD)
    await asyncio.sleep(1.1)  # Dovecot looks at the file at most once per second
    with pytest.raises(AuthError):
        await run_sync(pool, settings, connection_id)

    await login(api, "alice@example.com")
    page = (await api.get("/connections")).text
    htmx = {"X-CSRF-Token": session_csrf(page), "HX-Request": "true"}
    await api.post(f"/connections/{connection_id}/pause", headers=htmx)
    resumed = await api.post(f"/connections/{connection_id}/resume", headers=htmx)
    assert f"Resumed {imap_user}; it syncs once you enter its current password." in resumed.text
    link = re.search(
        r'href="(/connections\?reconnect=\d+)#imap-form"[^>]*>Enter new password', page
    )
    assert link, "no Enter new password link"
    form = (await api.get(link[1])).text
    assert f"Enter the current password of {imap_user}; the other details are as saved." in form
    saved = {
        name: _field(form, name) for name in ("host", "port", "security", "username", "folders")
    }
    assert saved == {"host": dovecot.host, "port": str(dovecot.port), "security": "plain",
                     "username": imap_user, "folders": "INBOX"}  # fmt: skip
    assert _field(form, "password") == "" and PASSWORD not in form

    sent = await api.post(
        "/connections/imap",
        headers=htmx,
        data={**saved, "password": NEW_PASSWORD, "display_name": "Work mail"},
    )
    assert "Work mail is signed in again; it syncs now and every 15 minutes." in sent.text
    [view] = (await api.get("/api/connections", headers=alice.auth)).json()
    assert (view["id"], view["status"], view["display_name"]) == (connection_id, "ok", "Work mail")
