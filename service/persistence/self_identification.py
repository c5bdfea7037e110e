"""Self-identification answers: one row per application, in a table of their own.

Only the fairness reports (in aggregate) and the admin export read this table;
no other model has a relationship to it, so no serializer can reach it by accident.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Computed, Enum, ForeignKey, SmallInteger
from sqlalchemy.orm import Mapped, mapped_column

from service.domain.self_identification import QUESTIONS
from service.persistence.base import Base, checked_enum, utcnow


def _answer(question: str) -> Enum:
    return checked_enum(QUESTIONS[question], f"self_identification_{question}", length=50)


def answers_code_sql() -> str:
    """The index in `domain.self_identification.ANSWER_SETS` of a row's answers, in SQL."""
    terms, radix = [], 1
    for question, options in QUESTIONS.items():
        whens = " ".join(f"WHEN '{answer}' THEN {i}" for i, answer in enumerate(options))
        terms.append(f"{radix} * CASE {question} {whens} END")
        radix *= len(options)
    return " + ".join(terms)


class SelfIdentification(Base):
    __tablename__ = "self_identifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    sex: Mapped[str] = mapped_column(_answer("sex"))
    race_ethnicity: Mapped[str] = mapped_column(_answer("race_ethnicity"))
    veteran_status: Mapped[str] = mapped_column(_answer("veteran_status"))
    disability_status: Mapped[str] = mapped_column(_answer("disability_status"))
    # Computed by the database from the four answers (migration 0022: stored on
    # PostgreSQL, computed on read on SQLite), never written: the reports group on it.
    answers_code: Mapped[int] = mapped_column(
        SmallInteger, Computed(answers_code_sql(), persisted=True)
    )
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
