"""Notes' Markdown as safe HTML: CommonMark with raw HTML shown as text, no images, and links
only to http, https and mailto addresses, each marked rel="noopener nofollow"."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import Markup

SCHEMES = frozenset({"http", "https", "mailto"})


def _safe_link(url: str) -> bool:
    """Only absolute http(s) and mailto links (markdown-it has already normalised `url`)."""
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return False
    return scheme in SCHEMES


def _link_open(
    renderer: RendererHTML,
    tokens: Sequence[Token],
    idx: int,
    options: OptionsDict,
    env: EnvType,
) -> str:
    tokens[idx].attrSet("rel", "noopener nofollow")
    return renderer.renderToken(tokens, idx, options, env)


def make_renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("strikethrough").enable("table").disable("image")
    md.validateLink = _safe_link  # type: ignore[method-assign]
    md.add_render_rule("link_open", _link_open)
    return md


class NoteRenderer:
    """Renders notes; built once by the app and shared (rendering holds no state)."""

    def __init__(self) -> None:
        self._md = make_renderer()

    def __call__(self, text: Any) -> Markup:
        return Markup(self._md.render(str(text)))  # html off, links checked
