"""Candidates' data rights, the pure part: when retention erases someone, and how a
record about them is scrubbed.

Erasure keeps what the statistics need (stage history, scores, recommendations,
decisions) and removes what identifies the person: their profile, and their name,
contact details and links wherever staff wrote them (the same redaction as the
anonymized packet, `anonymize.redact`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from service.domain.anonymize import IdentifyingTerms, redact
from service.domain.errors import ConflictError

ERASED = "[erased]"
ENDED_STATUSES = ("rejected", "withdrawn")


def refuse_erased(candidate_id: int, erased_at: datetime | None) -> None:
    """Erasure is final: nothing new is recorded about an erased candidate.

    Raises ConflictError naming when the data was erased.
    """
    if erased_at is not None:
        raise ConflictError(
            f"Candidate {candidate_id}'s data was erased on {erased_at.date().isoformat()}; "
            "nothing can be added to or changed on the record. Create a new candidate if "
            "they apply again (they will be recognised as returning).",
            erased_at=erased_at.isoformat(),
        )


@dataclass(frozen=True)
class ApplicationEnd:
    """What retention needs of one application."""

    status: str
    ended_at: datetime | None  # when it was rejected or withdrawn
    retention_days: int  # its template's, or the global policy's


def retention_due(
    applications: Sequence[ApplicationEnd],
    *,
    created_at: datetime,
    keep_until: datetime | None,
    now: datetime,
    default_days: int,
) -> str | None:
    """Why the candidate's data is due for erasure at `now`, or None to keep it.

    Kept: while any application is active or hired (a hire's record belongs to
    employment), and until the date the candidate agreed to be kept for other
    roles. Otherwise due once every application ended more than its template's
    retention days ago (the longest of them), or, with no application, once the
    record is older than the global retention.
    """
    if keep_until is not None and keep_until > now:
        return None
    if any(a.status not in ENDED_STATUSES for a in applications):
        return None
    if not applications:
        if now - created_at > timedelta(days=default_days):
            return f"no application in {default_days} days"
        return None
    ended = max(a.ended_at or created_at for a in applications)
    days = max(a.retention_days for a in applications)
    if now - ended > timedelta(days=days):
        return f"last application ended {ended.date().isoformat()}, over {days} days ago"
    return None


def scrub(value: Any, terms: IdentifyingTerms, personal_keys: frozenset[str] = frozenset()) -> Any:
    """`value` with the person redacted from every string in it; under `personal_keys`
    (a candidate's own columns) the whole value becomes `[erased]`."""
    if isinstance(value, str):
        return redact(value, terms)
    if isinstance(value, list):
        return [scrub(item, terms) for item in value]
    if isinstance(value, dict):
        return {
            key: ERASED
            if key in personal_keys and item not in (None, "", [])
            else scrub(item, terms)
            for key, item in value.items()
        }
    return value
