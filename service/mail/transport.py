"""Sending one email: SMTP (smtp://, smtps://, with credentials) when `SMTP_URL` is set,
otherwise the log and a file under `instance/outbox/` so a laptop run shows it."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)


class MailTransport:
    def send(self, message: EmailMessage, message_id: int) -> None:
        raise NotImplementedError


class SmtpTransport(MailTransport):
    """smtp://host:port (STARTTLS when the server offers it), smtps://host:port (TLS)."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout

    def send(self, message: EmailMessage, message_id: int) -> None:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.tls:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if not self.tls:
                smtp.ehlo()
                if smtp.has_extn("starttls"):
                    smtp.starttls(context=context)
                    smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)


class FileTransport(MailTransport):
    """No SMTP: log the message and write it, as a .eml file, to `directory`."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def send(self, message: EmailMessage, message_id: int) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{message_id:08d}.eml"
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(message.as_bytes())
        temporary.replace(path)
        # Not the subject: it names candidates, and logs must hold no candidate's data.
        log.info("email %s to %s written to %s", message_id, message["To"], path)


def transport_for(smtp_url: str | None, instance_path: str | Path) -> MailTransport:
    if smtp_url:
        return SmtpTransport(smtp_url)
    return FileTransport(Path(instance_path) / "outbox")
