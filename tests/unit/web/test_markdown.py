"""Notes' Markdown renders safely: raw HTML shows as text, only http, https and mailto links
survive (each rel="noopener nofollow"), images never load."""

from __future__ import annotations

import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from fluffymail.web.markdown import NoteRenderer

render = NoteRenderer()
ALLOWED = {
    "html",
    "head",
    "body",
    "-text",
    "p",
    "a",
    "em",
    "strong",
    "code",
    "pre",
    "ul",
    "ol",
    "li",
    "s",
}


def test_markdown__formatting_and_safe_links() -> None:
    html = render("**Bold**, *it*, `code`, ~~gone~~\n\n- one\n- [site](https://example.com)")
    assert "<strong>Bold</strong>" in html and "<em>it</em>" in html and "<s>gone</s>" in html
    assert '<a href="https://example.com" rel="noopener nofollow">site</a>' in html
    assert '<a href="mailto:a@b.test" rel="noopener nofollow">' in render("[m](mailto:a@b.test)")
    assert 'href="http://x.test"' in render("<http://x.test>")


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "![pic](https://evil.test/x.png)",
        "![pic](javascript:alert(1))",
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](java\tscript:alert(1))",
        "[x](java&#09;script:alert(1))",
        "[x](  javascript:alert(1))",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](//evil.test/path)",
        "[x](/contacts/1)",
        "<javascript:alert(1)>",
        '<a href="https://ok.test" onclick="alert(1)">x</a>',
        '[x](https://ok.test "t" onmouseover=alert(1))',
        '<iframe src="https://evil.test"></iframe>',
        "<style>body{display:none}</style>",
        "[x]: javascript:alert(1)\n\n[x]",
    ],
)
def test_markdown__hostile_input_is_inert(hostile: str) -> None:
    html = str(render(hostile))
    for node in HTMLParser(html).root.traverse():  # type: ignore[union-attr]
        assert node.tag in ALLOWED, (hostile, html)
        for name, value in node.attributes.items():
            assert not name.startswith("on") and name != "src", (hostile, html)
            if name == "href":
                assert (value or "").startswith(("http://", "https://", "mailto:")), html
