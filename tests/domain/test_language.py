"""The biased-language check: the reviewed phrase file, what it catches, and what it must not.

No app and no database: the checker is pure Python over a data file.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain.language import (
    CATEGORIES,
    LanguageDataError,
    LanguageWarning,
    categories,
    check_scorecard,
    check_text,
    parse_entries,
    phrase_entries,
)


def flagged(text: str) -> list[tuple[str, str]]:
    return [(w.phrase, w.category) for w in check_text(text, "summary")]


def valid_entry(**overrides):
    entry = {
        "phrase": "culture fit",
        "category": "fit_affinity",
        "suggestion": "Cite behaviour.",
        "source": "Rivera 2012",
    }
    return entry | overrides


# --- the data file -------------------------------------------------------------


def test_data_file_loads_and_has_a_reviewable_number_of_entries():
    assert 60 <= len(phrase_entries()) <= 120


def test_every_entry_has_category_suggestion_and_source():
    for entry in phrase_entries():
        assert entry.category in categories(), entry.phrase
        assert entry.suggestion.strip() and entry.source.strip(), entry.phrase


def test_every_known_category_has_entries():
    used = {entry.category for entry in phrase_entries()}
    assert used == set(CATEGORIES)


def test_categories_are_the_known_set_in_display_order():
    assert categories() == CATEGORIES
    assert len(set(categories())) == len(categories())


def test_every_listed_wording_is_caught_on_its_own_by_its_entry():
    """Catches shadowing by another entry, a typo'd regex character, or a veto that eats its own phrase."""
    misses = []
    for entry in phrase_entries():
        for form in entry.forms:
            warnings = check_text(form, "summary")
            expected = [
                LanguageWarning(form, entry.category, entry.suggestion, "summary", 0, len(form))
            ]
            if warnings != expected:
                misses.append((form, [(w.phrase, w.category) for w in warnings]))
    assert misses == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "entries"),
        ({"entries": []}, "entries"),
        ({"entries": ["culture fit"]}, "mapping"),
        ({"entries": [valid_entry(category="vibes")]}, "unknown category"),
        ({"entries": [valid_entry(suggestion="  ")]}, "'suggestion'"),
        ({"entries": [{k: v for k, v in valid_entry().items() if k != "source"}]}, "'source'"),
        ({"entries": [valid_entry(not_befor=["x"])]}, "unknown keys"),
        ({"entries": [valid_entry(variants="cultural fit")]}, "'variants'"),
        (
            {"entries": [valid_entry(not_before=["through", True])]},
            "'not_before'",
        ),  # YAML's bare `on`
        ({"entries": [valid_entry(), valid_entry(phrase="Culture-Fit")]}, "already listed"),
        ({"entries": [valid_entry(variants=["cultural fit", "cultural  fit"])]}, "already listed"),
    ],
)
def test_malformed_phrase_data_is_rejected(data, message):
    with pytest.raises(LanguageDataError, match=message):
        parse_entries(data)


# --- what is caught ----------------------------------------------------------------


# One or more catches per category: (feedback text, phrase as written, category).
CATCHES = [
    ("Not sure she is a culture fit.", "culture fit", "fit_affinity"),
    ("Passes the beer test for sure.", "beer test", "fit_affinity"),
    ("My gut feeling says no.", "My gut feeling", "fit_affinity"),
    ("He is just like us.", "like us", "fit_affinity"),
    ("She would fit right in.", "fit right in", "fit_affinity"),
    ("Young and hungry.", "Young", "age"),
    ("Very energetic for the role.", "energetic", "age"),
    ("A true digital native.", "digital native", "age"),
    ("Probably overqualified.", "overqualified", "age"),
    ("Seems set in his ways.", "set in his ways", "age"),
    ("She mentioned her maternity leave.", "maternity leave", "family"),
    ("Recently married, may not relocate.", "married", "family"),
    ("She is pregnant, so timing is bad.", "pregnant", "family"),
    ("Has two kids at home.", "kids at home", "family"),
    ("Not a native speaker.", "native speaker", "national_origin"),
    ("Strong accent, hard to follow.", "Strong accent", "national_origin"),
    ("Asked about his nationality.", "nationality", "national_origin"),
    ("Very well-dressed and attractive.", "well-dressed", "appearance"),
    ("Lots of tattoos.", "tattoos", "appearance"),
    ("Uses a wheelchair; might struggle.", "wheelchair", "disability_health"),
    ("Seemed a bit OCD about naming.", "a bit OCD", "disability_health"),
    ("Mentioned his church group.", "church", "religion"),
    ("Wore a hijab.", "hijab", "religion"),
    ("Came across as abrasive.", "abrasive", "gendered_descriptor"),
    ("A bit bossy with the whiteboard.", "bossy", "gendered_descriptor"),
    ("Her voice was shrill.", "shrill", "gendered_descriptor"),
    ("Got emotional when challenged.", "emotional", "gendered_descriptor"),
    ("Bubbly personality.", "Bubbly", "gendered_descriptor"),
    ("Quite aggressive in the debate.", "aggressive", "gendered_descriptor"),
    ("Ivy League background, so strong.", "Ivy League", "pedigree"),
    ("Went to a top school.", "top school", "pedigree"),
    ("I can't put my finger on it.", "can't put my finger on it", "non_evidence"),
    ("Some red flags here.", "red flags", "non_evidence"),
]


@pytest.mark.parametrize(("text", "phrase", "category"), CATCHES)
def test_catches_phrase_with_its_category(text, phrase, category):
    assert (phrase, category) in flagged(text)


def test_every_category_has_a_catch_in_the_examples():
    assert {category for _, _, category in CATCHES} == set(CATEGORIES)


@pytest.mark.parametrize(
    "word",
    [
        "young",
        "younger",
        "youngest",
        "youngster",
        "youngsters",
        "energetic",
        "energetically",
        "accent",
        "accents",
        "accented",
        "stutter",
        "stuttering",
        "stammered",
    ],
)
def test_listed_inflections_are_caught(word):
    assert [phrase for phrase, _ in flagged(f"Noted: {word}.")] == [word]


@pytest.mark.parametrize(
    "text",
    [
        "culture-fit",
        "Culture Fit",
        "CULTURE   FIT",
        "culture\nfit",
        "culture \u2010 fit",
        "cultural\r\n  fit",
    ],
)
def test_multiword_phrases_tolerate_case_spacing_line_breaks_and_hyphens(text):
    assert flagged(f"Not a {text}.") == [(text, "fit_affinity")]


def test_curly_and_straight_apostrophes_are_the_same():
    assert flagged("I can\u2019t put my finger on it") == [
        ("can\u2019t put my finger on it", "non_evidence")
    ]


def test_hyphenated_prefix_still_flags_the_phrase():
    assert flagged("non-native speaker") == [("non-native speaker", "national_origin")]
    assert flagged("ex-FAANG engineer") == [("ex-FAANG", "pedigree")]


# --- near misses -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Worked at a recruiting agency for two years.",
        "Migrated the ageing infrastructure to Kubernetes.",
        "Previously a data analyst; the analysis was thorough.",
        "Showed leadership when the design stalled.",
        "Small git commits with clear messages.",
        "Used colour to accentuate the error states.",
        "Picked an accent colour and handled accented characters in the parser.",
        "Left a pregnant pause before answering, then gave a precise estimate.",
        "Proposed an aggressive timeline and aggressive caching, then an aggressive-deadline plan.",
        "Talked about emotional intelligence in code review.",
        "Noticed the dataset won't fit in memory.",
        "Religious about writing tests first.",
        "We clicked through the demo together.",
        "He would like me to explain the constraints again.",
        "Walked the tree's children and fixed the child process leak.",
        "Added a foreign key and an old system shim.",
        "Chose a young codebase on purpose: a young startup.",
        "Disabled the flaky test; a crash crippled the database; asked for wheelchair access.",
        # Found by running the checker over the technical prose in site-packages:
        "Wrote the parser in Lisp, then a platform-agnostic version in Rust.",
        "Checked whether the node has children before recursing.",
        "Handled an exotic dtype; noticed the client library was too old.",
        "Said the compiler aggressively inlines; a PhD in high-energy physics.",
        "Tuned the young generation size of the JVM heap.",
        "Explained why a follower is not a leader and sorted cache entries by their age.",
        "We agreed one of us would drive the keyboard.",
        "The value won't fit in a uint16; explained how this step fits in with the pipeline.",
    ],
)
def test_near_misses_are_not_flagged(text):
    assert flagged(text) == []


def test_aggressive_about_a_person_is_flagged_but_not_about_a_schedule():
    assert flagged("aggressive timeline") == []
    assert flagged("aggressive towards the interviewer") == [("aggressive", "gendered_descriptor")]


def test_pregnant_pause_is_an_idiom_but_pregnant_is_flagged():
    assert flagged("a pregnant pause") == []
    assert flagged("she is pregnant") == [("pregnant", "family")]


# --- positions, order and fields -------------------------------------------------


def test_start_and_end_point_at_the_text_as_written():
    text = "Solid design.\nBut NOT a Culture-Fit."
    [warning] = check_text(text, "summary")
    assert (warning.start, warning.end) == (text.index("Culture"), len(text) - 1)
    assert text[warning.start : warning.end] == warning.phrase == "Culture-Fit"


def test_reports_every_phrase_in_one_text_in_reading_order():
    text = "Young, energetic, a culture fit; my gut feeling is yes. Red flag: none."
    assert [phrase for phrase, _ in flagged(text)] == [
        "Young",
        "energetic",
        "culture fit",
        "my gut feeling",
        "Red flag",
    ]


def test_overlapping_matches_report_the_longest_once():
    assert flagged("She has young children.") == [("young children", "family")]


def test_scorecard_warnings_keep_their_field_names():
    warnings = check_scorecard(
        {
            "ratings[0].evidence": "Split the service cleanly along the queue boundary.",
            "ratings[2].evidence": "Bossy when pairing.",
            "summary": "Strong accent; not a culture fit.",
        }
    )
    assert [(w.field, w.phrase) for w in warnings] == [
        ("ratings[2].evidence", "Bossy"),
        ("summary", "Strong accent"),
        ("summary", "culture fit"),
    ]


def test_empty_fields_produce_no_warnings():
    assert check_scorecard({"summary": "", "ratings[0].evidence": ""}) == []


def test_warnings_carry_the_entry_suggestion():
    [warning] = check_text("culture fit", "summary")
    entry = next(e for e in phrase_entries() if e.phrase == "culture fit")
    assert warning.suggestion == entry.suggestion


# --- properties ----------------------------------------------------------------------

# Ordinary evidence words, including the near misses. No two of them form a listed
# phrase, whatever the order or separator.
SAFE_WORDS = [
    "the",
    "candidate",
    "explained",
    "design",
    "tradeoffs",
    "wrote",
    "clear",
    "tests",
    "api",
    "latency",
    "database",
    "index",
    "queue",
    "retry",
    "agency",
    "ageing",
    "aging",
    "age",
    "usage",
    "engagement",
    "infrastructure",
    "analyst",
    "analysis",
    "leadership",
    "leader",
    "commits",
    "commit",
    "committed",
    "accentuate",
    "pause",
    "timeline",
    "deadline",
    "caching",
    "intelligence",
    "memory",
    "children",
    "child",
    "process",
    "tree",
    "node",
    "foreign",
    "key",
    "old",
    "system",
    "blind",
    "review",
    "double",
    "clicked",
    "button",
    "flag",
    "feature",
    "native",
    "culture",
    "fits",
    "youth",
    "experienced",
    "family",
    "gut",
    "confident",
    "presence",
    "polish",
    "makeup",
    "university",
    "code",
    "energy",
    "emotion",
    "access",
]
SEPARATORS = [" ", "  ", "\n", "-", ", ", ". ", " (", ") ", "; "]


@given(st.lists(st.tuples(st.sampled_from(SAFE_WORDS), st.sampled_from(SEPARATORS)), max_size=40))
def test_text_made_only_of_safe_words_never_warns(pieces):
    text = "".join(word + separator for word, separator in pieces)
    assert check_text(text, "summary") == []


@given(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=200),
    st.sampled_from(["young", "culture fit", "Bossy"]),
)
def test_warnings_point_at_their_text_in_order_without_overlap(noise, phrase):
    text = f"{noise} {phrase}. {noise}"
    warnings = check_text(text, "f")
    assert any(w.phrase == phrase for w in warnings)
    for warning in warnings:
        assert text[warning.start : warning.end] == warning.phrase
    for earlier, later in itertools.pairwise(warnings):
        assert earlier.end <= later.start
