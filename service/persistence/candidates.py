"""Candidates: the people who apply. Personal data lives here only.

An erased candidate keeps their row (applications, scores and decisions point at
it, pseudonymous) with the personal columns emptied, `erased_at` set and a keyed
fingerprint of the email, so that a returning candidate can be recognised.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from service.persistence.base import Base, pseudonym_key, utcnow

# What erasure removes: the columns that identify or describe the person.
PERSONAL_FIELDS = ("name", "email", "phone", "links", "resume_text")
ERASED_NAME = "Erased candidate"


class Candidate(Base):
    __tablename__ = "candidates"
    __table_args__ = (
        # The erased ones alone: the adverse-impact report leaves their applications
        # out, and reads which they are from this index (migration 0019).
        Index(
            "ix_candidates_erased",
            "id",
            sqlite_where=text("erased_at IS NOT NULL"),
            postgresql_where=text("erased_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    # Stored lower-cased, so uniqueness is case-insensitive on every backend; none once erased.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    phone: Mapped[str] = mapped_column(String(50), default="")
    source: Mapped[str] = mapped_column(String(100), default="")
    links: Mapped[list[Any]] = mapped_column(default=list)
    resume_text: Mapped[str] = mapped_column(Text, default="")
    # The candidate agreed to be kept for other roles until then (retention waits).
    keep_until: Mapped[datetime | None]
    erased_at: Mapped[datetime | None]
    # HMAC of the email under a server key, kept from erasure on (never a bare hash).
    email_fingerprint: Mapped[str | None] = mapped_column(String(64), index=True)
    # The erased record of the same person, recognised by that fingerprint.
    returning_from_id: Mapped[int | None] = mapped_column(ForeignKey("candidates.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def email_fingerprint(session: Session, email: str) -> str:
    """The keyed one-way fingerprint of an address: an HMAC under the server's key (never
    a bare hash, which anyone could confirm by hashing a guessed address)."""
    message = b"candidate-email:" + email.strip().lower().encode()
    return hmac.new(pseudonym_key(session), message, hashlib.sha256).hexdigest()


def returning_from(session: Session, email: str) -> int | None:
    """The erased record of the person with this address, if they were erased before."""
    return session.scalar(
        select(Candidate.id)
        .where(Candidate.email_fingerprint == email_fingerprint(session, email))
        .order_by(Candidate.id.desc())
        .limit(1)
    )
