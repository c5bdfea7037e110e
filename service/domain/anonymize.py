"""Blind review: remove what identifies a candidate from text written about them.

Used for anonymized packets. Names (full, first, last), email, phone and
links are replaced; gendered pronouns become neutral ones, so the reader
cannot infer gender from the evidence either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[candidate]"
PRONOUNS = {
    "he": "they",
    "she": "they",
    "him": "them",
    "his": "their",
    "hers": "theirs",
    "himself": "themself",
    "herself": "themself",
    "her": "their",
}
PRONOUN_PATTERN = re.compile(r"\b(" + "|".join(PRONOUNS) + r")\b", re.IGNORECASE)
MIN_NAME_PART = 2


def identifying_terms(name: str, email: str, phone: str, links: Iterable[str]) -> list[str]:
    """Everything that names the candidate, longest first so 'Ada Lovelace' goes before 'Ada'."""
    parts = [p for p in re.split(r"[\s\-']+", name) if len(p) >= MIN_NAME_PART]
    local = email.split("@", maxsplit=1)[0]
    terms = [name, email, local, *parts, *links]
    if re.sub(r"\D", "", phone):
        terms.append(phone)
    return sorted({t.strip() for t in terms if t and t.strip()}, key=len, reverse=True)


def redact(text: str, terms: Iterable[str]) -> str:
    """Replace identifying terms (whole words, any case) and neutralise gendered pronouns."""
    for term in terms:
        text = re.sub(rf"(?<!\w){re.escape(term)}(?!\w)", REDACTED, text, flags=re.IGNORECASE)
    return PRONOUN_PATTERN.sub(lambda m: _same_case(m.group(0), PRONOUNS[m.group(0).lower()]), text)


def _same_case(original: str, replacement: str) -> str:
    return replacement.capitalize() if original[0].isupper() else replacement
