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
