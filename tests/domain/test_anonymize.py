import pytest

from service.domain.anonymize import identifying_terms, redact

TERMS = identifying_terms(
    "Ada King-Lovelace", "ada.k@example.org", "+44 20 7946 0000", ["https://github.com/adak"]
)


def test_full_and_partial_names_are_redacted_in_any_case():
    text = "Ada King-Lovelace explained it; later ADA and lovelace both came up."
    assert redact(text, TERMS) == (
        "[candidate] explained it; later [candidate] and [candidate] both came up."
    )


def test_contact_details_are_redacted():
    text = "Reach ada.k@example.org or +44 20 7946 0000; code at https://github.com/adak."
    redacted = redact(text, TERMS)
    assert "example.org" not in redacted and "7946" not in redacted and "github" not in redacted


def test_name_inside_another_word_is_left_alone():
    assert (
        redact("Adaptive caching with Kingston drives", TERMS)
        == "Adaptive caching with Kingston drives"
    )


def test_gendered_pronouns_become_neutral():
    assert redact("She said her design was his idea. He agreed.", TERMS) == (
        "They said their design was their idea. They agreed."
    )


PHONE_TERMS = identifying_terms("Grace Hopper", "grace@example.org", "+1 415 555 0100", [])


def test_candidate_email_becomes_an_email_placeholder_not_the_name():
    assert redact("Mail ada.k@example.org today.", TERMS) == "Mail [email] today."


def test_any_email_address_is_redacted():
    assert redact("Referred by bob.smith+jobs@corp.co.uk.", TERMS) == "Referred by [email]."


def test_any_link_becomes_a_link_placeholder_and_keeps_trailing_punctuation():
    assert redact("See https://example.com/a?b=1 (or www.example.com/x).", TERMS) == (
        "See [link] (or [link])."
    )


def test_candidate_link_is_caught_without_its_scheme_and_with_a_deeper_path():
    assert redact("Code at github.com/adak and github.com/adak/parser.", TERMS) == (
        "Code at [link] and [link]."
    )


def test_candidate_personal_site_without_a_path_is_redacted():
    terms = identifying_terms("Ada King", "", "", ["https://adaking.dev/"])
    assert (
        redact("Blogs at adaking.dev, mostly on Rust.", terms) == "Blogs at [link], mostly on Rust."
    )


def test_dotted_code_names_are_not_links():
    text = "Used os.path and edited package.json; read docs/setup.md."
    assert redact(text, TERMS) == text


@pytest.mark.parametrize(
    "written",
    [
        "+1 415 555 0100",
        "(415) 555-0100",
        "415.555.0100",
        "4155550100",
        "1-415-555-0100",
        "+1 (415) 555-0100",
        "555-0100",
        "011 1 415 555 0100",
    ],
)
def test_candidate_phone_is_found_in_any_format(written):
    assert redact(f"Call {written} after five.", PHONE_TERMS) == "Call [phone] after five."


def test_national_format_with_trunk_zero_matches_an_international_stored_number():
    assert redact("Call 020 7946 0000.", TERMS) == "Call [phone]."


@pytest.mark.parametrize(
    "text",
    [
        "Latency went from 4155 ms to 555 ms.",
        "Processed 5550101 rows; ticket 415-555-0199.",
        "Order 94155550100 shipped.",
        "The p99 is 0100 ms at 555 rps.",
    ],
)
def test_other_numbers_are_not_the_phone(text):
    assert redact(text, PHONE_TERMS) == text


def test_a_short_stored_phone_is_not_matched_by_digits():
    terms = identifying_terms("Grace Hopper", "", "x0100", [])
    assert redact("Timed out after 0100 ms.", terms) == "Timed out after 0100 ms."


@pytest.mark.parametrize(
    "honorific", ["Ms.", "Ms", "Mrs.", "Mr.", "Mr", "Mx.", "Miss", "Dr.", "Dr", "MS.", "Prof."]
)
def test_honorific_goes_with_the_redacted_name(honorific):
    assert redact(f"Thanks to {honorific} Hopper for the demo.", PHONE_TERMS) == (
        "Thanks to [candidate] for the demo."
    )


def test_honorific_before_someone_else_stays():
    text = "Watched Mr. Robot; cited Dr. Knuth and Ms. Liskov."
    assert redact(text, PHONE_TERMS) == text


def test_honorific_letters_inside_words_stay():
    assert redact("Her MSc forms: Grace filled the forms Hopper sent.", PHONE_TERMS) == (
        "Their MSc forms: [candidate] filled the forms [candidate] sent."
    )


def test_lowercase_miss_is_a_verb_not_an_honorific():
    assert redact("Did not miss Grace's point.", PHONE_TERMS) == "Did not miss [candidate]'s point."


def test_a_hyphenated_surname_is_one_placeholder():
    assert redact("Ms. King-Lovelace and King Lovelace.", TERMS) == "[candidate] and [candidate]."


def test_names_match_with_or_without_accents_and_either_apostrophe():
    terms = identifying_terms("José O'Brien", "", "", [])
    assert redact("Jose and JOSÉ; O\u2019Brien and Brien.", terms) == (
        "[candidate] and [candidate]; [candidate] and [candidate]."
    )


def test_a_short_email_local_part_is_not_a_handle():
    terms = identifying_terms("Grace Hopper", "me@grace.dev", "", [])
    assert redact("Asked me to repeat.", terms) == "Asked me to repeat."


def test_email_local_part_is_redacted_as_a_handle():
    assert redact("Commits as ada.k on the repo.", TERMS) == "Commits as [candidate] on the repo."


# --- pronouns ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Call her on Monday.", "Call them on Monday."),
        ("Gave her the task.", "Gave them the task."),
        ("Asked her to explain it.", "Asked them to explain it."),
        ("I asked her.", "I asked them."),
        ("Between her and the team.", "Between them and the team."),
        ("Told her that it failed.", "Told them that it failed."),
        ("The bug that bit her was old.", "The bug that bit them was old."),
        ("Her code was clean.", "Their code was clean."),
        ("Reviewed her pull request.", "Reviewed their pull request."),
        ("Her own design.", "Their own design."),
        ("HER design", "THEIR design"),
    ],
)
def test_her_is_an_object_or_a_possessive_by_the_next_word(text, expected):
    assert redact(text, TERMS) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("His tests were thorough.", "Their tests were thorough."),
        ("The idea was his.", "The idea was theirs."),
        ("The call was his to make.", "The call was theirs to make."),
        ("We thanked him.", "We thanked them."),
        ("The laptop was hers.", "The laptop was theirs."),
        (
            "He fixed it himself; she did it herself.",
            "They fixed it themself; they did it themself.",
        ),
    ],
)
def test_other_gendered_pronouns_become_neutral(text, expected):
    assert redact(text, TERMS) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("She is sharp.", "They are sharp."),
        ("He was late.", "They were late."),
        ("She has a plan.", "They have a plan."),
        ("He does not test.", "They do not test."),
        ("She isn't sure and he wasn't either.", "They aren't sure and they weren't either."),
        ("He doesn\u2019t guess.", "They don\u2019t guess."),
        ("She writes tests.", "They write tests."),
        ("He fixes bugs, she tries, he pushes.", "They fix bugs, they try, they push."),
        ("She also writes docs.", "They also write docs."),
        ("He clearly explains it.", "They clearly explain it."),
        ("She always asks.", "They always ask."),
        ("She explained it.", "They explained it."),
        ("He will ask.", "They will ask."),
        ("She's sharp.", "They're sharp."),
        ("She\u2019s a strong engineer.", "They\u2019re a strong engineer."),
        ("He's been clear.", "They've been clear."),
        ("She's built a compiler.", "They've built a compiler."),
        ("He'd ask; she'll test.", "They'd ask; they'll test."),
        ("He or she decides.", "They decide."),
        ("S/he is late.", "They are late."),
        ("His/her call.", "Their call."),
        ("Ask him or her.", "Ask them."),
    ],
)
def test_he_and_she_become_they_with_the_verb_agreeing(text, expected):
    assert redact(text, TERMS) == expected


def test_a_subject_pronoun_before_a_non_verb_ending_in_s_keeps_that_word():
    assert redact("She always tests; he thus won.", TERMS) == "They always test; they thus won."


@pytest.mark.parametrize(
    "text",
    [
        "The theme and the herald; hence the shell hell.",
        "There, here, where: checked the Hershey data and the hisat2 aligner.",
    ],
)
def test_pronoun_letters_inside_words_are_left_alone(text):
    assert redact(text, TERMS) == text


def test_redacted_text_reads_as_a_whole():
    text = "Ms. Lovelace said she is moving; call her on (020) 7946 0000 or ada.k@example.org."
    assert redact(text, TERMS) == (
        "[candidate] said they are moving; call them on [phone] or [email]."
    )
