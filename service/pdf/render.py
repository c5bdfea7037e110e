"""HTML → PDF with WeasyPrint, safely: our templates only, escaped values, our assets only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

HERE = Path(__file__).parent
ASSETS = HERE / "assets"
TEMPLATES = HERE / "templates"

environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


class AssetFetchRefusedError(ValueError):
    """The document asked for something outside our asset folder."""


@dataclass(frozen=True)
class RenderedPdf:
    data: bytes
    page_count: int


def render_html(template_name: str, context: dict[str, Any]) -> str:
    return environment.get_template(template_name).render(**context)


class AssetFetcher(URLFetcher):  # type: ignore[misc]  # weasyprint publishes no types
    """Serves files from our asset folder and nothing else: no network, no other paths.

    A refused or missing resource stops the rendering instead of leaving a hole.
    """

    def __init__(self) -> None:
        super().__init__(allowed_protocols={"file"}, allow_redirects=False, fail_on_errors=True)

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        prefix = ASSETS.resolve().as_uri() + "/"
        if not url.startswith(prefix) or ".." in url:
            raise AssetFetchRefusedError(f"refused to load {url!r}: only packet assets load")
        return super().fetch(url, headers)


# Tagged (PDF/UA-1): a structure tree, the document's language (`<html lang>`) and its
# title (`<title>`, shown instead of the file name), so screen readers can follow it.
PDF_VARIANT = "pdf/ua-1"


def html_to_pdf(html: str, *, identifier: str) -> RenderedPdf:
    """Render to tagged PDF bytes. The same HTML and identifier give the same bytes."""
    document = HTML(
        string=html, base_url=ASSETS.resolve().as_uri() + "/", url_fetcher=AssetFetcher()
    ).render()
    data = document.write_pdf(pdf_identifier=identifier.encode(), pdf_variant=PDF_VARIANT)
    return RenderedPdf(data, len(document.pages))
