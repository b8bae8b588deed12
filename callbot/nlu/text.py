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
    r"|xin\s+lỗi|nói\s+lại|đọc\s+lại|sửa\s+lại|ý\s+(?:tôi|em|con|mình)\s+là"
    r"|ý\s+(?:lộn|nhầm))\b"
    # "… một trăm hai mươi ba... hổng phải, hai trăm mười ba": a "not" that follows a pause
    # and takes back what came before it (a bare "không phải" is an answer, not this).
    r"|(?:\.\.\.|…|,)\s*(?:hổng|không|hông)\s+phải\b",
    re.UNICODE,
)


def split_self_correction(text: str) -> tuple[str, str] | None:
    """(what was said before the last self-correction, what replaced it), or None."""
    text = unicodedata.normalize("NFC", text).lower()
    marks = list(_SELF_CORRECTION.finditer(text))
    if not marks:
        return None
    return text[: marks[-1].start()], text[marks[-1].end() :]


def _ascii_digits(text: str) -> str:
    """Every digit as 0-9 so that int() of any numeral token works; other "digits" → space."""
    if text.isascii():
        return text
    return "".join(
        (str(unicodedata.digit(c, "")) or " ") if c.isdigit() and not c.isascii() else c
        for c in text
    )


def normalise(text: str, *, keep_slash: bool = False) -> str:
    """Lower case, NFC, punctuation to spaces, letters split from digits, hesitations dropped."""
    # NFKC folds compatibility forms a recogniser or keyboard may emit (full-width digits,
    # superscripts) into plain ones, and composes Vietnamese letters as NFC does.
    text = _ascii_digits(unicodedata.normalize("NFKC", text).lower())
    text = (_NOT_WORD_KEEP_SLASH if keep_slash else _NOT_WORD).sub(" ", text)
    text = _LETTER_DIGIT.sub(" ", text)
    return " ".join(w for w in text.split() if w not in HESITATIONS)


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
