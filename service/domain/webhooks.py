"""Webhook signatures and endpoint addresses: pure rules, no network.

A delivery carries `Hiring-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` over
`"<t>.<raw body>"` with the endpoint's secret, and the Standard Webhooks headers
(`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>` over
`"<id>.<t>.<raw body>"`), so receivers can use either an own check or a library.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
from urllib.parse import urlsplit

from service.domain.errors import RuleViolationError
from service.domain.events import EVENT_TYPES

# Events an endpoint can subscribe to ("*" is every one).
SUBSCRIBABLE = tuple(t for t in EVENT_TYPES if t != "webhook.ping")


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The `Hiring-Signature` value for `body` sent at `timestamp`."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(secret: str, header: str, body: bytes, now: int, tolerance: int = 300) -> bool:
    """What a receiver does: the signature matches and `t` is within `tolerance` seconds."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    expected = signature_header(secret, timestamp, body)
    return abs(now - timestamp) <= tolerance and hmac.compare_digest(expected, header)


def standard_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks `webhook-signature` value. A `whsec_` secret is base64 (the
    spec's form); any other secret is used as its UTF-8 bytes."""
    key = (
        base64.b64decode(secret.removeprefix("whsec_"))
        if secret.startswith("whsec_")
        else secret.encode()
    )
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def check_endpoint_url(url: str, allow_private: bool) -> None:
    """Only https (http too when private addresses are allowed), a host, no credentials;
    a literal private, loopback or link-local address only when allowed. Names are
    resolved and checked again when sending. Raises RuleViolationError."""
    parts = urlsplit(url)
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes or not parts.hostname:
        raise RuleViolationError(
            "A webhook URL is an https:// address with a host"
            + (
                " (or http://)."
                if allow_private
                else "; http is refused (set WEBHOOK_ALLOW_PRIVATE=1 for on-premises receivers)."
            ),
            errors={"url": f"use {' or '.join(s + '://' for s in schemes)} followed by a host"},
        )
    if parts.username or parts.password:
        raise RuleViolationError(
            "A webhook URL carries no user name or password; the signature authenticates us.",
            errors={"url": "remove the credentials from the URL"},
        )
    try:
        address = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return
    if not allow_private and not is_public(address):
        raise RuleViolationError(
            f"{parts.hostname} is not a public address; webhooks go to public receivers "
            "unless WEBHOOK_ALLOW_PRIVATE=1.",
            errors={"url": "use a public host name or address"},
        )


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Not loopback, private, link-local (cloud metadata), multicast, reserved or unspecified."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast
