"""Voluntary self-identification: the questions, their allowed answers and the report groups.

The answers are read only in aggregate by the fairness reports (and per candidate
only through the admin export); nothing here knows about storage or HTTP.
Categories follow the EEO-1 report (race/ethnicity), the VEVRAA invitation to
self-identify (veteran status) and form CC-305 (disability status).
"""

from __future__ import annotations

from itertools import product

DECLINED = "decline_to_answer"

QUESTIONS: dict[str, tuple[str, ...]] = {
    "sex": ("female", "male", "non_binary", DECLINED),
    "race_ethnicity": (
        "hispanic_or_latino",
        "white",
        "black_or_african_american",
        "native_hawaiian_or_other_pacific_islander",
        "asian",
        "american_indian_or_alaska_native",
        "two_or_more_races",
        DECLINED,
    ),
    "veteran_status": ("protected_veteran", "not_a_protected_veteran", DECLINED),
    "disability_status": ("has_disability", "no_disability", DECLINED),
}

# Every set of one answer to each question (in QUESTIONS order), numbered so that a
# report groups applicants on one small integer rather than on four strings: a set's
# index is each answer's position among its question's answers, in mixed radix (the
# first question's the lowest digit). The database keeps that number beside the
# answers (`self_identifications.answers_code`).
ANSWER_SETS: tuple[tuple[str, ...], ...] = tuple(
    tuple(reversed(answers)) for answers in product(*reversed(QUESTIONS.values()))
)


INTERSECTION = "sex_race_ethnicity"
DIMENSIONS = (*QUESTIONS, INTERSECTION)


def groups(dimension: str) -> tuple[str, ...]:
    """Every group a report shows for `dimension`, declined answers excluded.

    All groups are always listed (empty ones suppressed), so the presence of a
    label never reveals that someone with that answer applied.
    """
    if dimension == INTERSECTION:
        return tuple(f"{s}/{r}" for s in groups("sex") for r in groups("race_ethnicity"))
    return tuple(a for a in QUESTIONS[dimension] if a != DECLINED)


def group_of(dimension: str, answers: dict[str, str | None]) -> str | None:
    """The report group of one set of answers, or None when declined or not given."""
    if dimension == INTERSECTION:
        sex, race = group_of("sex", answers), group_of("race_ethnicity", answers)
        return f"{sex}/{race}" if sex and race else None
    answer = answers.get(dimension)
    return None if answer in (None, DECLINED) else answer
