"""A person adds a webhook (its secret shown once), sends a test event to a local receiver that
a worker delivers, sees the delivery log with the status code of each attempt, and resends a
delivery the receiver refused. Screenshots go to /tmp/crm-webhooks-*.png: look at them when
changing these pages."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import expect
from psycopg_pool import AsyncConnectionPool

from fluffymail.clock import SystemClock
from fluffymail.config import Settings
from fluffymail.jobs import deliver_webhook, webhook_dead_letter
from fluffymail.jobs.deps import JobDeps
from fluffymail.queue import JobQueue
from fluffymail.web.app import create_app
from fluffymail.web.services import accounts
from tests.webhook_receiver import Received, free_port, verify

EMAIL, PASSWORD = "hooks@example.com", "correct horse battery"
SHOTS = Path("/tmp")


class _Receiver(ThreadingHTTPServer):
    status = 204
    received: list[Received]


class _Handler(BaseHTTPRequestHandler):
    server: _Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        if 200 <= self.server.status < 300:
            headers = {k.lower(): v for k, v in self.headers.items()}
            self.server.received.append(Received(headers=headers, body=body))
        self.send_response(self.server.status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    server = _Receiver(("127.0.0.1", free_port()), _Handler)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@contextlib.contextmanager
def _worker(settings: Settings) -> Iterator[None]:
    """The delivery workers (short retries) in a thread of their own, until the test ends."""
    stop = threading.Event()
    ready = threading.Event()

    async def run() -> None:
        async with AsyncConnectionPool(
            settings.database_url, min_size=1, max_size=4, kwargs={"autocommit": True}
        ) as pool:
            queue = JobQueue(pool, poll_interval=0.1)
            options = {**deliver_webhook.QUEUE_OPTIONS, "retry_delay": 1, "retry_delay_max": 2}
            await queue.create_queue(webhook_dead_letter.QUEUE, **webhook_dead_letter.QUEUE_OPTIONS)
            await queue.create_queue(deliver_webhook.QUEUE, **options)
            deps = JobDeps(settings=settings, pool=pool, queue=queue, log=logging.getLogger("t"))
            handler = deliver_webhook.make_handler(deps, SystemClock())
            await queue.work(deliver_webhook.QUEUE, handler, concurrency=2)
            ready.set()
            while not stop.is_set():  # noqa: ASYNC110 - a thread sets it
                await asyncio.sleep(0.05)
            await queue.stop(grace=2)

    thread = threading.Thread(target=lambda: asyncio.run(run()), daemon=True)
    thread.start()
    assert ready.wait(30), "the delivery worker did not start"
    try:
        yield
    finally:
        stop.set()
        thread.join(10)


@pytest.fixture
def hook_server(db_url: str, receiver: _Receiver, tmp_path: Path) -> Iterator[str]:
    """The app (allowed to call the local receiver) and a delivery worker; the base URL."""
    settings = Settings(
        database_url=db_url,
        migrate_on_start=False,
        pool_min_size=1,
        pool_max_size=4,
        log_level="WARNING",
        data_dir=tmp_path,
        outbound_allow="127.0.0.1",
        outbound_ports=str(receiver.server_address[1]),
    )

    async def seed() -> None:
        async with AsyncConnectionPool(db_url, min_size=1, max_size=2) as pool:
            await accounts.create_user(pool, EMAIL, PASSWORD, name="Hook Keeper")

    asyncio.run(seed())
    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if uv.started:
            break
        thread.join(0.05)
    assert uv.started, "uvicorn did not start"
    with _worker(settings):
        yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(10)


def _shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"crm-webhooks-{name}.png"), full_page=True, caret="initial")


def test_add_a_webhook_send_a_test_event_and_resend_a_refused_one(
    hook_server: str, receiver: _Receiver, browser: Any
) -> None:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{hook_server}/webhooks")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{hook_server}/webhooks")
    page.get_by_role("banner").get_by_role("link", name="Webhooks").click()
    url = f"http://127.0.0.1:{receiver.server_address[1]}/fluffymail"
    page.get_by_label("URL").fill(url)
    page.get_by_label("Description").fill("Sales tool")
    page.get_by_label("followup.due").check()
    page.get_by_role("button", name="Add webhook").click()
    expect(page.get_by_text("it is not shown again")).to_be_visible()
    secret = page.locator("[data-secret]").inner_text().strip()
    assert secret.startswith("whsec_")
    _shot(page, "created")

    page.get_by_role("button", name="Send test event").click()
    row = page.locator("tr[data-delivery]").first
    for _ in range(100):  # the worker delivers within a second or two: reload until it has
        if "delivered" in row.inner_text():
            break
        page.wait_for_timeout(200)
        page.reload()
    expect(row.get_by_text("delivered")).to_be_visible()
    expect(row.get_by_text("HTTP 204")).to_be_visible()
    [got] = receiver.received
    assert verify(secret, got) and got.event["type"] == "webhook.test"

    receiver.status = 500  # refused: the attempt is logged with its code, and retried
    page.get_by_role("button", name="Send test event").click()
    refused = page.locator("tr[data-delivery]").first
    for _ in range(100):
        if "HTTP 500" in refused.inner_text():
            break
        page.wait_for_timeout(200)
        page.reload()
    expect(refused.get_by_text("HTTP 500").first).to_be_visible()
    receiver.status = 200
    refused.get_by_role("button", name="Resend").click()
    page.wait_for_url("**/webhooks/*?resent=*")
    for _ in range(100):
        rows = page.locator("tr[data-delivery]")
        if rows.count() == 3 and "delivered" in rows.first.inner_text():
            break
        page.wait_for_timeout(200)
        page.reload()
    expect(page.locator("tr[data-delivery]").first.get_by_text("resends")).to_be_visible()
    expect(page.locator("tr[data-delivery]").first.get_by_text("delivered")).to_be_visible()
    _shot(page, "log")
    assert len(receiver.received) >= 2 and all(verify(secret, r) for r in receiver.received)

    phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    phone.context.add_cookies(page.context.cookies())
    phone.goto(page.url)
    expect(phone.get_by_role("heading", name="Deliveries")).to_be_visible()
    _shot(phone, "phone")
