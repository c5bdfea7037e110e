"""Posting a webhook: no redirects followed, a time limit, and (unless private addresses
are allowed) every address the host resolves to must be public, checked just before
connecting. A name that resolves differently between the check and the connection
(DNS rebinding) is the remaining gap; pin receivers by address if that matters."""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from service.domain.webhooks import is_public


@dataclass(frozen=True)
class PostResult:
    status: int | None  # None when no answer came (refused, timed out, blocked)
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post_json(
    url: str, body: bytes, headers: dict[str, str], *, timeout: float, allow_private: bool
) -> PostResult:
    started = time.perf_counter()

    def result(status: int | None, error: str) -> PostResult:
        return PostResult(status, error, int((time.perf_counter() - started) * 1000))

    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if not allow_private:
        try:
            addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, port)}
        except OSError as error:
            return result(None, f"could not resolve {host}: {error}")
        private = [a for a in addresses if not is_public(ipaddress.ip_address(a.split("%")[0]))]
        if private:
            return result(None, f"{host} resolves to a non-public address ({private[0]}); refused")
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            host, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(64 * 1024)  # a receiver's answer is not ours to keep
        return result(
            response.status, "" if 200 <= response.status < 300 else f"answered {response.status}"
        )
    except (OSError, http.client.HTTPException) as error:
        return result(None, f"{type(error).__name__}: {error}")
    finally:
        connection.close()
