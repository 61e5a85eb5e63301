"""The browser enforces the pages' Content-Security-Policy, and /docs renders without internet:
Swagger UI's assets come from the installed package, and nothing leaves this machine."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


def test_docs_render_offline(server: str, browser: Any, artifacts: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    outside: list[str] = []

    def refuse_the_internet(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:  # there is no internet: what the page asks of it, it does not get
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", refuse_the_internet)
    page = context.new_page()
    page.goto(f"{server}/docs")
    page.get_by_text("/api/me", exact=True).first.wait_for()
    page.locator(".opblock-summary").first.click()  # an operation opens: the UI is alive
    page.get_by_text("Try it out").first.wait_for()
    page.screenshot(path=artifacts / "docs.png", caret="initial")
    assert outside == []
    context.close()


def test_pages_refuse_inline_script_and_style(
    server: str, browser: Any, csp_violations: list[str]
) -> None:
    page = browser.new_context().new_page()
    page.goto(f"{server}/login")
    page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.injected = true";
          document.head.append(script);
          document.body.insertAdjacentHTML("beforeend", '<p id="styled" style="color: red">x</p>');
        }"""
    )
    page.locator("#styled").wait_for()
    assert page.evaluate("window.injected") is None
    color = page.evaluate("getComputedStyle(document.getElementById('styled')).color")
    assert color != "rgb(255, 0, 0)"
    page.wait_for_timeout(100)  # let the violation events arrive
    page.evaluate("0")
    assert any("script-src" in v for v in csp_violations), csp_violations
    assert any("style-src" in v for v in csp_violations), csp_violations
    csp_violations.clear()  # expected here; anywhere else they fail the test
    page.context.close()
