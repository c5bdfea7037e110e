"""Email bodies from our own Jinja templates (text and HTML, autoescaped), and the MIME
message with its optional text/calendar part."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Item:
    """One thing to tell someone: a title, a sentence or two, and the page it is about."""

    title: str
    body: str
    link: str


def render_bodies(greeting_name: str, items: Sequence[Item], digest: bool) -> tuple[str, str]:
    """(plain text, HTML) for one notification or a digest of several."""
    context = {"name": greeting_name, "items": list(items), "digest": digest}
    return (
        _environment.get_template("message.txt").render(context),
        _environment.get_template("message.html").render(context),
    )


def mime_message(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    html: str,
    calendar: str | None,
) -> EmailMessage:
    """multipart/alternative of text, HTML and (for invitations) text/calendar, which is
    what calendar clients read as an invitation; the .ics is attached too."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    if calendar is not None:
        method = "CANCEL" if "METHOD:CANCEL" in calendar else "REQUEST"
        message.add_alternative(calendar, subtype="calendar", params={"method": method})
        message.add_attachment(
            calendar.encode(), maintype="text", subtype="calendar", filename="invite.ics"
        )
    return message
