"""Warn interviewers about wording in feedback that signals bias.

Principle 3 ("candour with evidence"): evidence and summaries are checked for
phrases such as "culture fit", age, family, accent or appearance, and the writer
is *warned*, with a suggestion to cite observable behaviour instead. Warnings
never block a save, never reject a candidate and never become a score; they are
stored with the scorecard and shown in the packet (docs/scoring.md, "Language in
feedback").

The phrases live in `data/biased_language.yaml`, which is reviewed like code.
Matching is deliberately literal: whole words and the inflections listed in the
file, never stems, because prefix matching ("age*", "analy*", "lead*",
"commit*") flags ordinary words such as "agency", "analyst", "leadership" and
git commits. To generalise without stems, an entry may give `patterns`:
wordings with named slots (`{parent} of {count}`, `{she_is} too {old}`), each
slot a reviewed list of literal words defined once in the file. A pattern
matches every combination of its slots' words, so "mother of two", "dads of 3"
and "she’s too old" come from one line each, and every combination is as
literal (and as testable) as a listed variant.

Text that is code is not prose: words inside `backticks`, after a dot
(`node.kids`) or before a call or attribute (`kids()`, `kids.count`) are never
flagged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from itertools import product
from typing import Any

import yaml

CATEGORIES: tuple[str, ...] = (
    "fit_affinity",
    "age",
    "family",
    "national_origin",
    "appearance",
    "disability_health",
    "religion",
    "gendered_descriptor",
    "pedigree",
    "non_evidence",
)

_DATA_FILE = "data/biased_language.yaml"
_KEYS = frozenset(
    {"phrase", "variants", "patterns", "category", "suggestion", "source", "not_before"}
)
_REQUIRED = ("phrase", "category", "suggestion", "source")
_HYPHENS = "\\-\u2010\u2011"  # escaped: it sits inside [...] classes
# Writers break lines and hyphenate freely: "culture fit", "culture-fit" and
# "culture\nfit" are the same phrase.
_WORD_SPLIT = re.compile(rf"[\s{_HYPHENS}]+")
_GAP = rf"(?:\s*[{_HYPHENS}]\s*|\s+)"
_APOSTROPHES = "'\u2019"
# `{slot}` or `{slot?}` (optional) inside a pattern.
_SLOT = re.compile(r"\{(\w+)(\??)\}")
# A word written as code: after "name." or before "(" / ".name".
_NOT_CODE_BEFORE = r"(?<!\w\.)"
_NOT_CODE_AFTER = r"(?![(])(?!\.\w)"
_CODE_SPAN = re.compile(r"`[^`\n]*`")


class LanguageDataError(ValueError):
    """The phrase file is malformed; raised on load so a bad edit fails in tests, not in production."""


@dataclass(frozen=True)
class LanguageWarning:
    """One flagged phrase: the text as written, why it is flagged, what to write instead, and where."""

    phrase: str
    category: str
    suggestion: str
    field: str
    start: int
    end: int


@dataclass(frozen=True)
class PhraseEntry:
    """One reviewed entry of the phrase file (see the file's header for the fields)."""

    phrase: str
    category: str
    suggestion: str
    source: str
    variants: tuple[str, ...] = ()
    not_before: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    # Every wording the patterns spell out, in file order (filled in by parse_entries).
    expansions: tuple[str, ...] = ()

    @property
    def forms(self) -> tuple[str, ...]:
        """Every wording this entry matches: the phrase, its variants and its patterns spelled out."""
        listed = (self.phrase, *self.variants)
        keys = {_normalise(form) for form in listed}
        return (*listed, *(form for form in self.expansions if _normalise(form) not in keys))


def categories() -> tuple[str, ...]:
    """The known warning categories, in the order the packet shows them."""
    return CATEGORIES


def check_text(text: str, field: str) -> list[LanguageWarning]:
    """Warnings for one piece of feedback text, in reading order.

    Where matches overlap (e.g. "young" inside "young children"), the one that
    starts first wins, and of those the longest, so the writer sees one precise
    warning rather than two. Matches inside `code spans` are dropped.
    """
    if not text:
        return []
    code = [span.span() for span in _CODE_SPAN.finditer(text)]
    found = [
        (match.start(), match.end(), entry)
        for entry, pattern in _candidates(text)
        for match in pattern.finditer(text)
        if not any(start <= match.start() < end for start, end in code)
    ]
    found.sort(key=lambda f: (f[0], f[0] - f[1]))
    warnings: list[LanguageWarning] = []
    covered_to = 0
    for start, end, entry in found:
        if start < covered_to:
            continue
        warnings.append(
            LanguageWarning(text[start:end], entry.category, entry.suggestion, field, start, end)
        )
        covered_to = end
    return warnings


def check_scorecard(texts: Mapping[str, str]) -> list[LanguageWarning]:
    """Warnings for all text fields of a scorecard, keyed by field name (e.g. "ratings[2].evidence")."""
    return [warning for field, text in texts.items() for warning in check_text(text or "", field)]


def preload() -> None:
    """Load and compile every pattern now rather than on the first check. A preloading
    server's master calls it (gunicorn.conf.py), so its workers share the patterns
    instead of each compiling its own on its first scorecard (some 5 MB of objects,
    seconds of CPU)."""
    _compiled()


def phrase_entries() -> tuple[PhraseEntry, ...]:
    """The validated entries of the shipped phrase file (loaded once, on first use)."""
    return _load()


def parse_entries(data: Any) -> tuple[PhraseEntry, ...]:
    """Validate the parsed YAML document and build entries.

    Raises LanguageDataError for a missing or empty field, an unknown key or
    category, a pattern naming an unknown slot, an unused slot, or a wording
    listed twice (after normalising case, spacing and hyphens, which the matcher
    treats as equal anyway). A pattern may repeat a wording of its own entry
    (the phrase is usually one of its combinations), never another entry's.
    """
    if (
        not isinstance(data, Mapping)
        or not isinstance(data.get("entries"), list)
        or not data["entries"]
    ):
        raise LanguageDataError("expected a mapping with a non-empty 'entries' list")
    slots = _parse_slots(data.get("slots", {}))
    entries: list[PhraseEntry] = []
    seen: dict[str, str] = {}
    used: set[str] = set()
    for index, raw in enumerate(data["entries"]):
        entry = _parse_entry(index, raw)
        for form in (entry.phrase, *entry.variants):
            key = _normalise(form)
            if key in seen:
                raise LanguageDataError(
                    f"entry {index}: {form!r} is already listed under {seen[key]!r}"
                )
            seen[key] = entry.phrase
        own = {_normalise(form) for form in (entry.phrase, *entry.variants)}
        expansions: dict[str, str] = {}
        for pattern in entry.patterns:
            used.update(name for name, _ in _SLOT.findall(pattern))
            for form in _expand(index, pattern, slots):
                key = _normalise(form)
                if key in seen and key not in own:
                    raise LanguageDataError(
                        f"entry {index}: pattern {pattern!r} spells {form!r},"
                        f" already listed under {seen[key]!r}"
                    )
                expansions.setdefault(key, form)
        for key in expansions:
            seen[key] = entry.phrase
        entries.append(replace(entry, expansions=tuple(expansions.values())))
    if unused := set(slots) - used:
        raise LanguageDataError(f"slots never used by a pattern: {sorted(unused)}")
    return tuple(entries)


def _parse_slots(raw: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, Mapping):
        raise LanguageDataError("'slots' must map slot names to lists of words")
    slots = {}
    for name, words in raw.items():
        if not isinstance(name, str) or not re.fullmatch(r"\w+", name):
            raise LanguageDataError(f"slot name {name!r} must be a single word")
        slots[name] = _string_list(f"slot {name!r}", {"words": words}, "words")
        if not slots[name]:
            raise LanguageDataError(f"slot {name!r} has no words")
    return slots


def _expand(index: int, pattern: str, slots: Mapping[str, tuple[str, ...]]) -> list[str]:
    """Every wording a pattern spells: the cross product of its slots, optional slots also left out."""
    choices: list[tuple[str, ...]] = []
    for token in pattern.split():
        slot = _SLOT.fullmatch(token)
        if slot is None:
            if "{" in token or "}" in token:
                raise LanguageDataError(f"entry {index}: malformed slot in pattern {pattern!r}")
            choices.append((token,))
            continue
        name, optional = slot.groups()
        if name not in slots:
            raise LanguageDataError(
                f"entry {index}: pattern {pattern!r} names unknown slot {name!r}"
            )
        choices.append(("", *slots[name]) if optional else slots[name])
    return [" ".join(word for word in combination if word) for combination in product(*choices)]


def _parse_entry(index: int, raw: Any) -> PhraseEntry:
    if not isinstance(raw, Mapping):
        raise LanguageDataError(f"entry {index}: expected a mapping")
    where = f"entry {index} ({raw.get('phrase')!r})"
    if unknown := set(raw) - _KEYS:
        raise LanguageDataError(f"{where}: unknown keys {sorted(unknown)}")
    for key in _REQUIRED:
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise LanguageDataError(f"{where}: '{key}' must be a non-empty string")
    if raw["category"] not in CATEGORIES:
        raise LanguageDataError(f"{where}: unknown category {raw['category']!r}")
    return PhraseEntry(
        phrase=raw["phrase"].strip(),
        category=raw["category"],
        suggestion=raw["suggestion"].strip(),
        source=raw["source"].strip(),
        variants=_string_list(where, raw, "variants"),
        not_before=_string_list(where, raw, "not_before"),
        patterns=_string_list(where, raw, "patterns"),
    )


def _string_list(where: str, raw: Mapping[str, Any], key: str) -> tuple[str, ...]:
    # YAML reads a bare `no`/`on` or a number as a non-string: reject rather than guess.
    values = raw.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
        raise LanguageDataError(f"{where}: '{key}' must be a list of non-empty strings")
    return tuple(v.strip() for v in values)


def _normalise(form: str) -> str:
    return " ".join(_WORD_SPLIT.split(form.strip().lower().replace("\u2019", "'")))


def _words_pattern(form: str) -> str:
    """Regex for one wording: its words, separated by whitespace or a hyphen; any apostrophe style."""
    words = _WORD_SPLIT.split(_normalise(form))
    return _GAP.join(re.escape(word).replace("'", f"[{_APOSTROPHES}]") for word in words)


def _entry_pattern(entry: PhraseEntry) -> re.Pattern[str]:
    """One case-insensitive regex per entry, matching whole words only.

    Longer wordings come first so "native English speaker" wins over "native
    English". `not_before` words (e.g. "aggressive timeline") veto a match: the
    gendered-descriptor entries should describe people, not schedules.
    """
    forms = sorted(entry.forms, key=len, reverse=True)
    pattern = (
        rf"(?<!\w){_NOT_CODE_BEFORE}(?:"
        + "|".join(map(_words_pattern, forms))
        + rf")(?!\w){_NOT_CODE_AFTER}"
    )
    if entry.not_before:
        vetoes = "|".join(map(_words_pattern, entry.not_before))
        pattern += rf"(?!{_GAP}(?:{vetoes})(?!\w))"
    return re.compile(pattern, re.IGNORECASE)


@cache
def _load() -> tuple[PhraseEntry, ...]:
    text = resources.files(__package__).joinpath(_DATA_FILE).read_text(encoding="utf-8")
    return parse_entries(yaml.safe_load(text))


@cache
def _compiled() -> tuple[tuple[PhraseEntry, re.Pattern[str]], ...]:
    return tuple((entry, _entry_pattern(entry)) for entry in _load())


# A run of word characters and apostrophes: every place a wording can start is the
# start of one, or just after an apostrophe inside one (`(?<!\w)`), and every place its
# first word can end is the end of one, or just before an apostrophe (`(?!\w)`).
_TOKEN = re.compile(rf"[\w{_APOSTROPHES}]+")


def _candidates(text: str) -> list[tuple[PhraseEntry, re.Pattern[str]]]:
    """The entries whose regex can match in `text`, in file order: those with a wording
    whose first and last words are both words of the text. Each regex tries up to
    thousands of spelled-out wordings at every word (all of them took ~4 ms per
    scorecard field); two set look-ups per word skip the entries that cannot match, so
    the warnings are the same as trying every entry.

    The look-ups compare lower-cased words, which is the regexes' case-insensitive
    matching only for ASCII: text with other letters (whose case folding the regex
    engine does its own way) tries every entry."""
    compiled = _compiled()
    plain = text.replace("\u2019", "'")
    if not plain.isascii():
        return list(compiled)
    by_first, always = _by_first_word()
    words = {run for token in _TOKEN.findall(plain.lower()) for run in _word_runs(token)}
    chosen = set(always)
    for word in words:
        for index, lasts in by_first.get(word, ()):
            if index not in chosen and not lasts.isdisjoint(words):
                chosen.add(index)
    return [compiled[index] for index in sorted(chosen)]


def _word_runs(token: str) -> set[str]:
    """Every part of `token` that starts at its start or after an apostrophe and ends at
    its end or before one ("she's" gives "she's" and "she"; "workers'" gives "workers'"
    and "workers")."""
    apostrophes = [i for i, char in enumerate(token) if char == "'"]
    if not apostrophes:
        return {token}
    starts = [0, *(i + 1 for i in apostrophes)]
    ends = [len(token), *apostrophes]
    return {token[start:end] for start in starts for end in ends if end > start}


@cache
def _by_first_word() -> tuple[dict[str, tuple[tuple[int, frozenset[str]], ...]], tuple[int, ...]]:
    """Per first word of a wording (normalised): the entries with such wordings, each
    with those wordings' last words; and the entries always tried, those with a first
    or last word that is empty or not plain ASCII."""
    lasts: dict[str, dict[int, set[str]]] = {}
    always: set[int] = set()
    for index, (entry, _) in enumerate(_compiled()):
        for form in entry.forms:
            words = _WORD_SPLIT.split(_normalise(form))
            if words[0] and words[-1] and words[0].isascii() and words[-1].isascii():
                lasts.setdefault(words[0], {}).setdefault(index, set()).add(words[-1])
            else:
                always.add(index)
    by_first = {
        word: tuple((index, frozenset(ends)) for index, ends in entries.items())
        for word, entries in lasts.items()
    }
    return by_first, tuple(always)
