"""The interactive docs (``/docs`` and ``/redoc``) load their scripts and styles from the
sandbox itself, so they work with no network."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from fastapi.openapi.docs import get_swagger_ui_html

from tests.sandbox_server import RunningSandbox

DOCS_PAGES = ["/docs", "/redoc"]


class _Assets(HTMLParser):
    """The ``src`` of each ``<script>`` and the ``href`` of each ``<link>``, with the
    content type each should be served as."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script" and attributes.get("src"):
            self.found.append((attributes["src"] or "", "javascript"))
        elif tag == "link" and attributes.get("href"):
            rel = (attributes.get("rel") or "").lower()
            expected = "css" if "stylesheet" in rel else "image/" if "icon" in rel else ""
            self.found.append((attributes["href"] or "", expected))


def assets_of(html: str) -> list[tuple[str, str]]:
    parser = _Assets()
    parser.feed(html)
    parser.close()
    return parser.found


def remote(assets: list[tuple[str, str]]) -> list[str]:
    return [url for url, _ in assets if urlsplit(url).scheme in {"http", "https"}]


def test_the_check_finds_the_cdn_in_fastapis_default_docs_page() -> None:
    default = get_swagger_ui_html(openapi_url="/openapi.json", title="default").body
    assets = assets_of(bytes(default).decode())
    assert any("cdn.jsdelivr.net" in url for url in remote(assets))


@pytest.mark.parametrize("page", DOCS_PAGES)
def test_the_docs_page_loads_no_script_or_stylesheet_from_another_host(
    sandbox: RunningSandbox, page: str
) -> None:
    response = httpx.get(f"{sandbox.base_url}{page}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assets = assets_of(response.text)
    assert any(kind == "javascript" for _, kind in assets), assets
    assert remote(assets) == []


@pytest.mark.parametrize("page", DOCS_PAGES)
def test_every_script_and_stylesheet_of_the_docs_page_is_served_by_the_sandbox(
    sandbox: RunningSandbox, page: str
) -> None:
    page_url = f"{sandbox.base_url}{page}"
    assets = assets_of(httpx.get(page_url).text)
    assert assets
    for url, expected in assets:
        asset = httpx.get(urljoin(page_url, url))
        assert asset.status_code == 200, url
        assert asset.content, url
        assert expected in asset.headers["content-type"], (url, asset.headers["content-type"])
