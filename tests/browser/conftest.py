"""Browser fixtures: the real app served by uvicorn on a free loopback port, and Debian's
Chromium driven by Playwright (skipped with a reason when /usr/bin/chromium is missing).

Every page a test opens reports Content-Security-Policy violations (the `securitypolicyviolation`
event and Chromium's console errors); any violation fails the test. Screenshots pass
`caret="initial"`: Playwright's default hides the caret with inline styles, which the CSP refuses."""

from __future__ import annotations

import socket
import threading
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from fluffymail.config import Settings
from fluffymail.web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CSP_VIOLATIONS = pytest.StashKey[list[str]]()
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__reportCspViolation(
    `${event.effectiveDirective} refused ${event.blockedURI || "inline"} ` +
      `(${event.sourceFile || document.URL}:${event.lineNumber})`,
  );
});
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(db_url: str) -> Iterator[str]:
    """`create_app` on the test database, served for real; yields the base URL."""
    settings = Settings(
        database_url=db_url,
        migrate_on_start=False,
        pool_min_size=1,
        pool_max_size=4,
        log_level="WARNING",
    )
    port = _free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if uv.started:
            break
        thread.join(0.05)
    assert uv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(10)


@pytest.fixture
def csp_violations(request: pytest.FixtureRequest) -> list[str]:
    """The CSP violations of the test's pages so far; any left at the end fail the test."""
    return request.node.stash.setdefault(CSP_VIOLATIONS, [])


@pytest.fixture
def browser(csp_violations: list[str]) -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(
            "/usr/bin/chromium is missing: install Debian's chromium (apt-get install -y chromium)"
        )
    from playwright.sync_api import expect, sync_playwright

    # Playwright's `expect` gives up after 5 s and `wait_for` after 30 s: on a slow, shared
    # machine a page that polls or a worker that is late can take longer than 5 s, so both wait
    # up to 30 s (a test that passes never waits for the limit).
    expect.set_options(timeout=30_000)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        new_context = chromium.new_context

        def watched_context(**options: Any) -> Any:
            context = new_context(**options)
            watch_csp(context, csp_violations)
            return context

        chromium.new_context = watched_context  # type: ignore[method-assign]
        chromium.new_page = lambda **options: watched_context(**options).new_page()  # type: ignore[method-assign]
        yield chromium
        chromium.close()


def watch_csp(context: Any, violations: list[str]) -> None:
    """Record every CSP violation in `context`'s pages into `violations`."""
    context.expose_binding(
        "__reportCspViolation",
        lambda source, text: violations.append(f"{source['page'].url}: {text}"),
    )
    context.add_init_script(REPORT_CSP_VIOLATIONS)

    def on_console(message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            violations.append(f"console: {message.text}")

    context.on("console", on_console)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    result = yield
    if violations := item.stash.get(CSP_VIOLATIONS, None):
        pytest.fail("Content-Security-Policy violations:\n" + "\n".join(violations))
    return result


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
