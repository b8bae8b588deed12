"""Search over what callers said and the ticket's own fields, exact tone marks first.

Two steps (issue 16: the old search matched the bot's own prompts, so "xin chào" found
every call and "Bàn Cờ" found calls whose prompts say "bạn … có"; and "Đà" ranked like
"đã"):

1. **The index narrows.** Migration ``0006_dashboard`` keeps one folded document per ticket
   (FTS5 on SQLite, a GIN ``tsvector`` on PostgreSQL) of every turn and every slot value.
   Each word of the query must occur there as a word prefix (``"khoi"*`` / ``khoi:*``), so
   "Khở" finds "Khởi" and "0903" finds 0903456789. That document also holds the bot's
   prompts, so what it returns is a superset: candidates, found without reading a
   transcript (a contains-scan would read about 2 KB per ticket, 200 MB at 100,000).
2. **The callers' words decide.** For the candidates, the callers' turns (speech and keypad)
   and the slot values are read and matched here, word by word, diacritics folded; the bot's
   prompts are never looked at. Each match is scored by how many query words occur with
   the very tone marks typed (case aside), and results are listed best score first, then
   newest first: "Đà" lists "Đà Nẵng" before "đã".

Step 2 reads at most ``MAX_CANDIDATES`` candidates (newest first) for a list page, so a
query made of words every call contains costs a bounded read; the page then says the
search looked at the newest ones only and a date filter narrows it. The CSV export reads
every candidate, in batches.

The user's text never reaches the query syntax: it is cut into letters-and-digits words,
and only those are quoted into the MATCH / tsquery expression, so quotes, operators or
brackets typed in the search box can neither break nor widen the search.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

MAX_WORDS = 8
MAX_CANDIDATES = 2000
_TOKEN = re.compile(r"[^\W_]+")
_FOLDED = re.compile(r"[0-9a-z]+")


def fold(text: str) -> str:
    """Lower case, Vietnamese diacritics removed (đ → d)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


@dataclass(frozen=True)
class Word:
    exact: str  # lower case, tone marks kept (NFC)
    folded: str  # what the index holds


def words_of(text: str) -> list[Word]:
    """The words of a text, each with and without its tone marks. A token that folds to
    more than letters and digits (another script) is split as the index's tokenizer does."""
    found: list[Word] = []
    for token in _TOKEN.findall(unicodedata.normalize("NFC", text).lower()):
        folded = fold(token)
        if _FOLDED.fullmatch(folded):
            found.append(Word(token, folded))
        else:
            found.extend(Word(part, part) for part in _FOLDED.findall(folded))
    return found


def search_words(text: str) -> list[str]:
    """The query's folded words, as the index is searched for them."""
    return [word.folded for word in words_of(text)[:MAX_WORDS]]


def sqlite_match(words: list[str]) -> str:
    return " ".join(f'"{word}"*' for word in words)


def postgres_tsquery(words: list[str]) -> str:
    return " & ".join(f"{word}:*" for word in words)


def search_clause(words: list[str], *, postgres: bool) -> tuple[str, str]:
    """SQL that keeps the candidates: tickets whose index holds every word as a prefix."""
    if postgres:
        return (
            "tickets.id IN (SELECT ticket_id FROM ticket_search"
            " WHERE document @@ to_tsquery('simple', ?))",
            postgres_tsquery(words),
        )
    return (
        "tickets.id IN (SELECT rowid FROM ticket_search WHERE ticket_search MATCH ?)",
        sqlite_match(words),
    )


class Query:
    """A search box's text, matched against one ticket's searchable texts."""

    def __init__(self, text: str) -> None:
        self.words = words_of(text)[:MAX_WORDS]

    def __bool__(self) -> bool:
        return bool(self.words)

    def score(self, texts: Iterable[str]) -> int | None:
        """None when some word is missing (folded, as a word prefix); otherwise how many
        of the query's words occur with their exact tone marks."""
        found = [word for text in texts for word in words_of(text)]
        score = 0
        for wanted in self.words:
            if not any(word.folded.startswith(wanted.folded) for word in found):
                return None
            if any(word.exact.startswith(wanted.exact) for word in found):
                score += 1
        return score
