"""The hiring-committee packet: its content rendered through our Jinja template to PDF."""

from __future__ import annotations

from typing import Any

from service.pdf.render import RenderedPdf, html_to_pdf, render_html

RECOMMENDATION_LABELS = {
    "strong_no": "Strong no",
    "no": "No",
    "yes": "Yes",
    "strong_yes": "Strong yes",
}
FLAG_TITLES = {
    "coverage_gap": "Coverage gap",
    "single_rater": "Single rater",
    "halo": "Halo",
    "not_independent": "Not independent",
    "late_feedback": "Late feedback",
    "missing_scorecard": "Missing scorecard",
    "biased_language": "Wording to check",
    "process_deviation": "Process deviation",
}


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
