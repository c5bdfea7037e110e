"""Webhook endpoints registered by admins, and one delivery row per event and endpoint."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from service.persistence.base import Base, checked_enum, utcnow
from service.persistence.outbox import OutboxEvent

DELIVERY_STATUSES = ("pending", "delivered", "failed")


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    # Event types it receives; ["*"] for every one.
    events: Mapped[list[Any]]
    # The signing secret itself (HMAC needs it); shown only when set.
    secret: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str] = mapped_column(Text, default="")
    # Deliveries that failed for good in a row; reset by a success.
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def receives(self, event_type: str) -> bool:
        return "*" in self.events or event_type in self.events


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "endpoint_id"),
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The `Hiring-Delivery` header: the same on every attempt, so receivers drop repeats.
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_events.id"))
    status: Mapped[str] = mapped_column(
        checked_enum(DELIVERY_STATUSES, "webhook_delivery_status"), default="pending"
    )
    attempts: Mapped[int] = mapped_column(default=0)
    response_code: Mapped[int | None]
    error: Mapped[str] = mapped_column(Text, default="")
    duration_ms: Mapped[int | None]
    # A sender holds the row until then, so two jobs never post it at once.
    locked_until: Mapped[datetime | None]
    # When the sweep may try again if RQ's own retry got lost.
    next_attempt_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]

    event: Mapped[OutboxEvent] = relationship(lazy="joined")
    endpoint: Mapped[WebhookEndpoint] = relationship(lazy="joined")


def receiving_endpoints(session: Session, event_type: str) -> list[WebhookEndpoint]:
    """Active endpoints subscribed to `event_type` (or to every event)."""
    endpoints = session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True)))
    return [endpoint for endpoint in endpoints if endpoint.receives(event_type)]


def deliveries_due(session: Session, now: datetime, limit: int) -> list[WebhookDelivery]:
    """Pending deliveries nobody holds whose next attempt is due (the sweep's work)."""
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(
                WebhookDelivery.status == "pending",
                or_(
                    WebhookDelivery.next_attempt_at.is_(None),
                    WebhookDelivery.next_attempt_at <= now,
                ),
                or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until <= now),
            )
            .order_by(WebhookDelivery.id)
            .limit(limit)
        )
    )
