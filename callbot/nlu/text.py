"""Normalisation of recogniser output before any slot is read from it.

Recognisers disagree on surface form: Vosk writes lower-case words without punctuation,
Whisper writes numerals and punctuation ("Quận 3.", "090 345 6789", "4, 5, 6") and either may
drop or confuse tone marks. Extractors therefore work on two views of the same tokens: the
normalised text (diacritics kept, so "năm" and "nam" can still be told apart when the
recogniser got them right) and the folded text (diacritics removed, so a missing tone mark
costs nothing).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Anything that is not a letter, a digit or a space becomes a space. Slashes survive when a
# caller asks for them because house numbers ("12/3") need them.
_NOT_WORD = re.compile(r"[^\w\s]|_", re.UNICODE)
_NOT_WORD_KEEP_SLASH = re.compile(r"[^\w\s/]|_", re.UNICODE)
# Whisper glues a letter to digits ("q1", "Q.1") and writes thousands with dots ("1.000");
# splitting letters from digits lets "q1" match "q 1" and "quận1" match "quận 1".
_LETTER_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])", re.UNICODE)


# Hesitations recognisers write between words ("số ờ mười hai"); they carry nothing and would
# split phrases apart. "ừ" (yes) and "ạ" (politeness) are not among them.
HESITATIONS = frozenset({"ờ", "ơ", "à", "ừm", "ưm", "hừm", "ậm", "ừ m", "uhm", "ừmm"})


# A caller correcting themselves mid-answer: "sáu người à không bảy người", "… bảy tám, à
# nhầm, tám chín". Matched on the raw words, before normalise() drops "à" as a hesitation.
_SELF_CORRECTION = re.compile(
    r"\b(?:(?:à|á|ờ|ơ|ấy)\s+(?:không\s+phải|không|nhầm|lộn|quên|sai)|nhầm\s+rồi|lộn\s+rồi"
    r"|xin\s+lỗi|nói\s+lại|đọc\s+lại|sửa\s+lại|đếm\s+lại|ý\s+(?:tôi|em|con|mình)\s+là"
    r"|ý\s+(?:lộn|nhầm))\b"
    # "… một trăm hai mươi ba... hổng phải, hai trăm mười ba": a "not" that follows a pause
    # and takes back what came before it (a bare "không phải" is an answer, not this), and
    # is itself followed by a pause: "cho người khác, không phải người nhà" contrasts, the
    # words after "không phải" are what the caller rules out.
    r"|(?:\.\.\.|…|,)\s*(?:hổng|không|hông)\s+phải\b(?=\s*(?:[,.…!?]|$))"
    # "Sai, nói lộn, đúng rồi", "tui nghe nhầm": the caller misspoke or misheard. Its "rồi"
    # belongs to the mark ("em nghe lộn rồi" leaves nothing after it, not a yes).
    r"|\b(?:(?:nói|nghe|đọc)\s+(?:lộn|nhầm)(?:\s+rồi)?"
    # "à thôi", "ờ mà không", "thôi không": dropping what was said ("à mà" alone adds).
    r"|(?:(?:à|á|ờ|ơ)\s+)?thôi\s+không|(?:à|á|ờ|ơ)\s+(?:mà\s+(?:không|hông|hổng)|thôi))\b",
    re.UNICODE,
)
# The marks that take back what came before them: with nothing said after one ("Quận một,
# à không…"), the answer was withdrawn, not replaced. (Not "nói lại", "xin lỗi": those may
# only offer to restate, or apologise, after an answer that stands.)
_TAKING_BACK = re.compile(
    r"^(?:(?:à|á|ờ|ơ|ấy)\s+(?:không|mà\s+(?:không|hông|hổng)|thôi)|thôi\s+không|ý\s+(?:lộn|nhầm))"
)


# "quận ba, không, quận năm": a lone "không" between pauses, with more said after it,
# takes back what came before. (Not for digits: "… tám, không, bốn năm sáu" may be a zero.)
_LONE_NO = re.compile(r"(?:\.\.\.|…|,)\s*(?:không|hông|hổng)\s*(?:\.\.\.|…|,)(?=\s*\w)")


def without_marks(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """The same pattern for text typed without tone marks ("nam nguoi, a khong, sau")."""
    plain = unicodedata.normalize("NFD", pattern.pattern.replace("đ", "d"))
    return re.compile("".join(c for c in plain if not unicodedata.combining(c)), pattern.flags)


def typed_plain(text: str) -> bool:
    """Whether a text carries no tone mark at all (typed plain, or a recogniser's folded
    form). Only then may a word written without marks stand for the marked one: in a text
    with marks, "tam" is not "tám" ("tầm", about)."""
    low = text.lower()
    return fold(low) == low


@dataclass(frozen=True)
class MarkedPattern:
    """A pattern written with tone marks, and its twin for a text typed without any."""

    marked: re.Pattern[str]
    plain: re.Pattern[str]

    @classmethod
    def of(cls, pattern: re.Pattern[str]) -> MarkedPattern:
        return cls(pattern, without_marks(pattern))

    def for_text(self, text: str) -> re.Pattern[str]:
        """The twin that reads this text: plain only for a text without any mark."""
        return self.plain if typed_plain(text) else self.marked


_SELF_CORRECTION_TWINS = MarkedPattern.of(_SELF_CORRECTION)
_PLAIN_ZERO = re.compile(r"\w+\s+khong")
_LONE_NO_TWINS = MarkedPattern.of(_LONE_NO)
_TAKING_BACK_TWINS = MarkedPattern.of(_TAKING_BACK)


def split_self_correction(
    text: str, *, lone_no: bool = True, unmarked: bool = True
) -> tuple[str, str] | None:
    """(what was said before the last self-correction, what replaced it), or None.
    ``lone_no``: a lone "không" between pauses counts as a correction (not for digits,
    where it may be a zero, nor then "a khong" typed plain: "ạ, không chín…");
    ``unmarked``: so do the marks typed without tones, in a text typed without any."""
    text = unicodedata.normalize("NFC", text).lower()
    plain = unmarked and typed_plain(text)
    twins = (_SELF_CORRECTION_TWINS, _LONE_NO_TWINS)
    marks = list((twins[0].plain if plain else twins[0].marked).finditer(text))
    if plain and not lone_no:
        # Digits: "a khong" typed plain may be "ạ, không…", a zero after a polite particle.
        marks = [m for m in marks if not _PLAIN_ZERO.fullmatch(m.group())]
    if lone_no:
        lone = twins[1].plain if plain else twins[1].marked
        marks = sorted(marks + list(lone.finditer(text)), key=lambda m: m.start())
    if not marks:
        return None
    return text[: marks[-1].start()], text[marks[-1].end() :]


def split_taking_back(text: str, *, lone_no: bool = True) -> tuple[str, str] | None:
    """(before, after) the last mark that withdraws what came before it ("à không", "à
    thôi", "ờ mà không", a lone "không" between pauses), rather than only restating it
    ("để tôi đếm lại"), or None."""
    text = unicodedata.normalize("NFC", text).lower()
    marks = list(_SELF_CORRECTION_TWINS.for_text(text).finditer(text))
    taking_back = _TAKING_BACK_TWINS.for_text(text)
    marks = [m for m in marks if taking_back.match(m.group())]
    if lone_no:
        marks += list(_LONE_NO_TWINS.for_text(text).finditer(text))
    if not marks:
        return None
    last = max(marks, key=lambda m: m.start())
    return text[: last.start()], text[last.end() :]


def _ascii_digits(text: str) -> str:
    """Every digit as 0-9 so that int() of any numeral token works; other "digits" → space."""
    if text.isascii():
        return text
    return "".join(
        (str(unicodedata.digit(c, "")) or " ") if c.isdigit() and not c.isascii() else c
        for c in text
    )


def normalise(text: str, *, keep_slash: bool = False) -> str:
    """Lower case, NFC, punctuation to spaces, letters split from digits, two syllables
    written as one word split apart, hesitations dropped."""
    # NFKC folds compatibility forms a recogniser or keyboard may emit (full-width digits,
    # superscripts) into plain ones, and composes Vietnamese letters as NFC does.
    text = _ascii_digits(unicodedata.normalize("NFKC", text).lower())
    text = (_NOT_WORD_KEEP_SLASH if keep_slash else _NOT_WORD).sub(" ", text)
    text = _LETTER_DIGIT.sub(" ", text)
    # The hesitations are dropped after the split: "àaee" is "à" and "aee".
    words = " ".join(map(unglue, text.split())).split()
    return " ".join(w for w in words if w not in HESITATIONS)


# One Vietnamese syllable, folded: an initial consonant, a group of one to three vowels, a
# final consonant. Every written syllable has this shape, so a word that has not, and that
# splits into two that have, is two syllables a recogniser or a keyboard ran together
# ("quậnba", "kếbên", "khôngchín"). Loanwords rarely split into two such halves ("zalo",
# "covid", "online" do not).
_SYLLABLE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?[aeiouy]{1,3}(?:ng|nh|ch|[cmnpt])?"
)
# Where a run of consonants between the halves could part two ways ("chínhai": "chí nhai"
# or "chín hai"), the longer initial is the likelier ("đứanhỏ": "đứa nhỏ"), except after
# the digit words that end in the consonant: a number run together is read as digits.
_DIGITS_ENDING_IN_CONSONANT = frozenset({"chin", "bon", "mot", "khong", "nam", "tam"})


@lru_cache(maxsize=8192)
def unglue(word: str) -> str:
    """ "quậnba" → "quận ba"; any word that is one syllable, or not two, is kept whole."""
    folded = fold_word(word)
    if len(word) < 4 or len(folded) != len(word) or not folded.isalpha():
        return word
    if _SYLLABLE.fullmatch(folded):
        return word
    cuts = [
        k
        for k in range(1, len(folded))
        if _SYLLABLE.fullmatch(folded[:k]) and _SYLLABLE.fullmatch(folded[k:])
    ]
    if not cuts:
        return word
    digit_cuts = [k for k in cuts if folded[:k] in _DIGITS_ENDING_IN_CONSONANT]
    k = digit_cuts[-1] if digit_cuts else cuts[0]
    return f"{word[:k]} {word[k:]}"


@lru_cache(maxsize=4096)
def fold_word(word: str) -> str:
    """Remove Vietnamese diacritics from one token ("đường" → "duong")."""
    decomposed = unicodedata.normalize("NFD", word.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: str) -> str:
    """Remove Vietnamese diacritics from a whole text, word by word (cached per word)."""
    return " ".join(fold_word(w) for w in text.split(" ")) if text else ""


def tokens(text: str) -> list[str]:
    """The normalised tokens of an utterance."""
    norm = normalise(text)
    return norm.split(" ") if norm else []


def folded_tokens(text: str) -> list[str]:
    """The normalised tokens with diacritics removed."""
    return [fold_word(t) for t in tokens(text)]


def contains_phrase(folded_text: str, phrase: str) -> bool:
    """Whole-word phrase search in already folded text (no regex per call)."""
    return f" {phrase} " in f" {folded_text} "


def title_case(words: str) -> str:
    """Names and streets: every syllable capitalised ("nguyễn văn a" → "Nguyễn Văn A")."""
    return " ".join(w[:1].upper() + w[1:] for w in words.split())


def word_set(words: str) -> frozenset[str]:
    """A vocabulary written as one space-separated string, as word lists read best."""
    return frozenset(words.split())
