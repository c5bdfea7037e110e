"""What people are told: in-app notifications, the email messages sent (or written) for
them, and each person's email preference."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from service.persistence.base import Base, checked_enum, utcnow

EMAIL_PREFERENCES = ("immediately", "daily_digest", "off")
EMAIL_STATUSES = ("pending", "sent", "failed")


class NotificationPreference(Base):
    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    email: Mapped[str] = mapped_column(
        checked_enum(EMAIL_PREFERENCES, "email_preference"), default="immediately"
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_id_id", "user_id", "id"),
        Index("ix_notifications_digest", "digest_pending", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_events.id"))
    type: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    # Path of the page it is about, under PUBLIC_BASE_URL (`/interviews/7`).
    path: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    # True while it waits for the person's daily digest email.
    digest_pending: Mapped[bool] = mapped_column(default=False)


class EmailMessage(Base):
    """One email, rendered when it was decided on; sent by a job (or written to the log
    and `instance/outbox/` without SMTP)."""

    __tablename__ = "email_messages"
    __table_args__ = (Index("ix_email_messages_status", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    # An iCalendar object (METHOD:REQUEST or CANCEL) sent as a text/calendar part.
    calendar: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(
        checked_enum(EMAIL_STATUSES, "email_status"), default="pending"
    )
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    # A digest's `digest:<user>:<day>`: one per person per day, however many passes run.
    dedupe_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


def email_preference(session: Session, user_id: int) -> str:
    stored = session.get(NotificationPreference, user_id)
    return stored.email if stored is not None else "immediately"


def pending_emails(session: Session, created_before: datetime, limit: int) -> list[EmailMessage]:
    """Emails still unsent that were made before `created_before` (their job was lost)."""
    return list(
        session.scalars(
            select(EmailMessage)
            .where(EmailMessage.status == "pending", EmailMessage.created_at <= created_before)
            .order_by(EmailMessage.id)
            .limit(limit)
        )
    )


def digest_notifications(session: Session) -> dict[int, list[Notification]]:
    """Per user, the notifications waiting for their digest, oldest first."""
    waiting: dict[int, list[Notification]] = {}
    for notification in session.scalars(
        select(Notification)
        .where(Notification.digest_pending.is_(True))
        .order_by(Notification.user_id, Notification.id)
        .with_for_update(skip_locked=True)
    ):
        waiting.setdefault(notification.user_id, []).append(notification)
    return waiting
