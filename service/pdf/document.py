"""The hiring-committee packet: its content rendered through our Jinja template to PDF."""

from __future__ import annotations

from typing import Any

from service.pdf.labels import FLAG_TITLES, RECOMMENDATION_LABELS
from service.pdf.render import RenderedPdf, html_to_pdf, render_html


def packet_html(content: dict[str, Any], digest: str, version: int) -> str:
    return render_html(
        "packet.html",
        {
            "c": content,
            "digest": digest,
            "version": version,
            "labels": RECOMMENDATION_LABELS,
            "flag_titles": FLAG_TITLES,
        },
    )


def render_packet_document(content: dict[str, Any], digest: str, version: int) -> RenderedPdf:
    """Same content, digest and version → the same PDF bytes (dates come from the data)."""
    return html_to_pdf(packet_html(content, digest, version), identifier=digest)


def warm_up() -> None:
    """One small render, so a worker pays WeasyPrint's start-up before its first job."""
    html_to_pdf(render_html("warm_up.html", {}), identifier="warm-up")
