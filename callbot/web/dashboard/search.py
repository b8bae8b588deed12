"""Full-text search over transcripts and slot values (migration ``0006_dashboard``).

Why an index and not ``LIKE '%…%'``: a contains-scan reads every transcript, about 2 KB per
ticket, so at 100,000 tickets each search reads 200 MB of text. FTS5 (SQLite) and a GIN
``tsvector`` (PostgreSQL) look up the few postings of each word instead. Both sides fold
Vietnamese diacritics, so "quan 3" finds "Quận 3"; every word must occur (AND), and each
word also matches as a prefix, so "0903" finds 0903456789.

The user's text never reaches the query syntax: it is cut into letters-and-digits words,
and only those are quoted into the MATCH / tsquery expression, so quotes, operators or
parentheses typed in the search box can neither break nor widen the search.
"""

from __future__ import annotations

import re
import unicodedata

MAX_WORDS = 8


def fold(text: str) -> str:
    """Lower case, Vietnamese diacritics removed (đ → d)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def search_words(text: str) -> list[str]:
    return re.findall(r"[0-9a-z]+", fold(text))[:MAX_WORDS]


def sqlite_match(words: list[str]) -> str:
    return " ".join(f'"{word}"*' if word.isdigit() else f'"{word}"' for word in words)


def postgres_tsquery(words: list[str]) -> str:
    return " & ".join(f"{word}:*" if word.isdigit() else word for word in words)


def search_clause(words: list[str], *, postgres: bool) -> tuple[str, str]:
    """SQL that keeps tickets matching every word, and its one argument."""
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
