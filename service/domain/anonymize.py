"""Blind review: remove what identifies a candidate from text written about them.

Used for anonymized packets. In this order:

1. any email address becomes `[email]` and any link `[link]` (not only the
   candidate's: a reader can look up a colleague's address or a repository);
   the candidate's own links are also caught without their scheme
   ("github.com/adak", "adak.dev");
2. the candidate's phone becomes `[phone]` in whatever format it is written:
   digit sequences are compared, ignoring spaces, dots, dashes, slashes and
   brackets, and a number matches when it ends with the stored number's last
   seven digits and any digits before those are the stored ones (or a trunk
   or international prefix: 0, 00, 011, +). "+1 415 555 0100" is found as
   "(415) 555-0100", "415.555.0100", "4155550100" and "555-0100";
3. the name, full or in parts (and the email's local part, a handle), becomes
   `[candidate]`, ignoring case, accents written or not ("Jose" for "José"),
   apostrophe style and hyphen-or-space; an honorific before it goes with it
   ("Ms. Smith", "Dr Smith" -> "[candidate]": Dr is not gendered but would keep
   a title the packet otherwise hides), and "Ada King-Lovelace" is one
   `[candidate]`, not three. An honorific before anyone else stays ("Mr. Robot");
4. gendered pronouns become singular "they":
   - he/she -> they, with the verb that follows agreeing ("she is" -> "they
     are", "he was" -> "they were", "she has"/"doesn't" -> "they have"/"don't",
     "she writes" -> "they write"), also across one adverb ("she also tests");
     "she's"/"he's" -> "they're", or "they've" before a common past participle
     ("she's been", "he's built"); "he or she", "s/he", "his/her" -> one word;
   - her -> them as an object and their as a possessive, decided by the next
     word: a determiner, preposition, conjunction, pronoun, auxiliary or
     particle, punctuation or the end means object ("call her on", "gave her
     the task", "asked her."), anything else possessive ("her code");
     his -> theirs in the same object positions ("the idea was his."), else
     their; him -> them, hers -> theirs, himself/herself -> themself.

Limits, by design (readable, not perfect): questions keep their verb ("is
she" -> "is they"); regular -ed participles after "she's" read as adjectives
("she's worked" -> "they're worked"); "her" before an adverb or a number is
read as possessive/object by the rules above ("told her clearly" -> "their
clearly", "her 3 projects" -> "them 3 projects"); irregular verbs after a
pronoun other than be/have/do and "-s" verbs with unusual plurals ("focuses"
-> "focuse") are left imperfect; other people's phone numbers, nicknames and
gendered nouns ("the lady") are not touched (the language check flags the
latter).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

REDACTED = "[candidate]"
EMAIL = "[email]"
LINK = "[link]"
PHONE = "[phone]"
MIN_NAME_PART = 2
# A shorter local part ("me@", "dev@") is an ordinary word more often than a handle.
MIN_HANDLE = 4
# Fewer digits than a local number collide with ordinary figures ("4100 ms").
MIN_PHONE_DIGITS = 7

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")
_TLDS = "com|org|net|io|dev|app|me|co|ai|edu|gov|info|xyz|tech|page|site|blog|uk|de|fr|nl|eu|us|ca"
_URL = re.compile(
    r"(?<![\w@])(?:(?:https?|ftp)://|www\.)[^\s<>\"]+"
    # Scheme-less, but only with a path and a common top-level domain, so that
    # "os.path" or "package.json" stay.
    rf"|(?<![\w@./-])(?:[a-z0-9-]+\.)+(?:{_TLDS})/[^\s<>\"]*",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?)]}'\"\u2019\u201d"
_PHONE_SEPARATOR = r"[\s.\-\u2010-\u2012/()]{0,2}"
_APOSTROPHE = "['\u2019]"
_HONORIFIC = re.compile(
    r"(?<!\w)(?:(?i:mrs|mr|ms|mx|dr|prof|mme|mlle)(?:\.\s*|\s+)|(?:Miss|Mister|Madam|Sir|Dame)\s+)"
    + re.escape(REDACTED)
)


def _pair(one: str, other: str, *more: str) -> str:
    joint = r"\s*(?:or|/|and)\s*"
    return rf"(?<![\w/])(?:{'|'.join((f'{one}{joint}{other}', f'{other}{joint}{one}', *more))})(?![\w/])"


_ADJACENT = re.compile(
    rf"{re.escape(REDACTED)}(?:[ \t]*[-\u2010\u2011]?[ \t]*{re.escape(REDACTED)})+"
)

# "he or she" becomes "she" first, so the subject rule then gives "they" with agreement.
_PAIRS = [
    (_pair("he", "she", r"s/he|\(s\)he"), "she"),
    (_pair("his", "her"), "their"),
    (_pair("him", "her"), "them"),
    (_pair("himself", "herself"), "themself"),
]
_ADVERBS = (
    "also|always|often|never|then|usually|sometimes|just|still|even|only|already|first|later|now|"
    r"\w+ly"
)
_SUBJECT = re.compile(
    rf"(?<!\w)(?P<pronoun>s?he)(?:(?P<apostrophe>{_APOSTROPHE})(?P<contraction>s|d|ll))?(?!\w)"
    rf"(?:(?P<gap>\s+(?:(?:{_ADVERBS})\s+)?)(?P<verb>[a-z]+(?:{_APOSTROPHE}t)?)(?!\w))?",
    re.IGNORECASE,
)
_OTHER = re.compile(r"(?<!\w)(her|his|him|hers|himself|herself)(?!\w)", re.IGNORECASE)
_NEXT_WORD = re.compile(r"[ \t\n\"\u201c\u2018(]*([A-Za-z]+(?:['\u2019][a-z]+)?)?")


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_AGREEMENT = {
    "is": "are",
    "was": "were",
    "has": "have",
    "does": "do",
    "isn't": "aren't",
    "wasn't": "weren't",
    "hasn't": "haven't",
    "doesn't": "don't",
}
# Words ending in -s that follow a subject without being a verb in the third person.
_NOT_VERBS = _word_set(
    "always sometimes perhaps afterwards nevertheless nonetheless besides towards as its "
    "thus plus yes hers his this less unless regardless across"
)
_PARTICIPLES = _word_set(
    "been got gotten had done gone seen written built led made taken given run shown known "
    "spent held left met taught thought brought found won begun broken chosen driven grown "
    "spoken drawn sold told kept lost paid put set sent"
)
# After "her": these make it an object ("gave her the task"), anything else a possessive.
_OBJECT_CONTEXT = _word_set(
    """
    the a an this that these those some any every each no all both another either neither such
    what which whose my your our their his its
    to on in at for with about from by of into onto over under after before through during as
    like up down out off back around across along against among between without within toward
    towards upon via per than
    and or but nor so yet if when while because since although though whether unless until once
    i me you he him she we us they them it myself yourself
    again too also well directly here there now today yesterday tomorrow later first twice
    anyway instead afterwards enough more less much
    is are was were be been has have had do does did will would can could should may might must
    why how where who whom
    """
)


@dataclass(frozen=True)
class IdentifyingTerms:
    """What identifies one candidate, prepared for `redact` (built by `identifying_terms`)."""

    names: tuple[str, ...]
    phone: str = ""
    links: tuple[str, ...] = ()


def identifying_terms(name: str, email: str, phone: str, links: Iterable[str]) -> IdentifyingTerms:
    """Everything that names the candidate; names longest first so 'Ada Lovelace' goes before 'Ada'."""
    words = name.split()
    parts = [*words, *(p for word in words for p in re.split(r"[\-'\u2019]+", word))]
    local = email.split("@", maxsplit=1)[0] if "@" in email else ""
    names = [name, *(p for p in parts if len(p) >= MIN_NAME_PART)]
    if len(local) >= MIN_HANDLE:
        names.append(local)
    unique = {n.strip().lower(): n.strip() for n in names if n and n.strip()}
    return IdentifyingTerms(
        names=tuple(sorted(unique.values(), key=len, reverse=True)),
        phone=re.sub(r"\D", "", phone),
        links=tuple(link.strip() for link in links if link and link.strip()),
    )


def redact(text: str, terms: IdentifyingTerms) -> str:
    """Replace contact details, links and the candidate's name, then neutralise gendered pronouns."""
    text = _EMAIL.sub(EMAIL, text)
    for link in terms.links:
        text = _own_link_pattern(link).sub(_link, text)
    text = _URL.sub(_link, text)
    if len(terms.phone) >= MIN_PHONE_DIGITS:
        text = _phone_pattern(terms.phone).sub(PHONE, text)
    for name in terms.names:
        text = _name_pattern(name).sub(REDACTED, text)
    text = _ADJACENT.sub(REDACTED, text)
    text = _HONORIFIC.sub(REDACTED, text)
    return neutralise_pronouns(text)


def neutralise_pronouns(text: str) -> str:
    """Gendered pronouns to singular 'they', keeping the sentence readable (limits: module docstring)."""
    for pattern, neutral in _PAIRS:

        def keep_case(m: re.Match[str], neutral: str = neutral) -> str:
            return _same_case(m.group(0), neutral)

        text = re.sub(pattern, keep_case, text, flags=re.IGNORECASE)
    text = _SUBJECT.sub(_subject, text)
    return _OTHER.sub(_other, text)


def _subject(match: re.Match[str]) -> str:
    pronoun, contraction = match["pronoun"], match["contraction"]
    they = _same_case(pronoun, "they")
    verb = match["verb"]
    if contraction:
        rest = f"{match['gap']}{verb}" if verb else ""
        if contraction.lower() == "s":
            contraction = "ve" if verb and verb.lower() in _PARTICIPLES else "re"
        return f"{they}{match['apostrophe']}{contraction}{rest}"
    if verb is None:
        return they
    return f"{they}{match['gap']}{_agree(verb)}"


def _agree(verb: str) -> str:
    """The plural form of a third-person singular verb, or the word unchanged."""
    plain = verb.replace("\u2019", "'")
    if plain in _AGREEMENT:
        agreed = _AGREEMENT[plain]
        return agreed.replace("'", "\u2019") if "\u2019" in verb else agreed
    if (
        len(verb) < 3
        or not verb.endswith("s")
        or verb.endswith(("ss", "us", "is", "'t", "\u2019t"))
        or verb.lower() in _NOT_VERBS
    ):
        return verb
    if verb.endswith("ies") and len(verb) > 4:
        return verb[:-3] + "y"
    if verb.endswith(("sses", "shes", "ches", "xes", "zes", "oes")):
        return verb[:-2]
    return verb[:-1]


def _other(match: re.Match[str]) -> str:
    word = match.group(0)
    lower = word.lower()
    if lower in ("her", "his"):
        following = _NEXT_WORD.match(match.string, match.end())
        next_word = following.group(1) if following else None
        as_object = next_word is None or next_word.lower() in _OBJECT_CONTEXT
        if lower == "her":
            neutral = "them" if as_object else "their"
        else:
            neutral = "theirs" if as_object else "their"
    else:
        neutral = {"him": "them", "hers": "theirs"}.get(lower, "themself")
    return _same_case(word, neutral)


def _link(match: re.Match[str]) -> str:
    found = match.group(0)
    url = found.rstrip(_TRAILING)
    return LINK + found[len(url) :]


def _own_link_pattern(link: str) -> re.Pattern[str]:
    """The candidate's link with or without scheme and 'www.', and anything under it."""
    bare = re.sub(r"^(?:[a-z]+://)?(?:www\.)?", "", link, flags=re.IGNORECASE).rstrip("/")
    return re.compile(
        rf"(?<![\w@./-])(?:[a-z]+://)?(?:www\.)?{re.escape(bare)}(?![\w-])(?:/[^\s<>\"]*)?",
        re.IGNORECASE,
    )


def _phone_pattern(digits: str) -> re.Pattern[str]:
    """The stored number's last seven digits, optionally preceded by the digits before them
    (right-aligned: '415 555 0100' and '555 0100' both match '+1 415 555 0100') and a prefix."""
    tail = _PHONE_SEPARATOR.join(digits[-MIN_PHONE_DIGITS:])
    head = ""
    for digit in digits[:-MIN_PHONE_DIGITS]:
        head = f"(?:{head}{digit}{_PHONE_SEPARATOR})?"
    return re.compile(rf"(?<![\w+(])\(?(?:\+|011|00|0)?{_PHONE_SEPARATOR}{head}{tail}(?!\d)")


def _name_pattern(name: str) -> re.Pattern[str]:
    """Whole words, any case; hyphen or space, either apostrophe; accents optional."""
    pieces = []
    for char in name:
        if char in "-\u2010\u2011" or char.isspace():
            pieces.append(r"[\s\-\u2010\u2011]+")
        elif char in "'\u2019":
            pieces.append(_APOSTROPHE)
        else:
            base = unicodedata.normalize("NFKD", char)[0]
            pieces.append(
                f"[{re.escape(char)}{re.escape(base)}]" if base != char else re.escape(char)
            )
    return re.compile(rf"(?<!\w){''.join(pieces)}(?!\w)", re.IGNORECASE)


def _same_case(original: str, replacement: str) -> str:
    if len(original) > 1 and original.isupper():
        return replacement.upper()
    return replacement.capitalize() if original[0].isupper() else replacement
