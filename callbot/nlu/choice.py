"""Menu choices said instead of keyed: "một", "số hai", "phím 3", "bấm số bốn", "chọn 1"."""

from __future__ import annotations

from callbot.nlu.numbers import parse_number_at
from callbot.nlu.text import folded_tokens, word_set

# Words around a spoken menu choice that carry no meaning of their own.
_AROUND_CHOICE = word_set(
    "da vang so phim bam nhan chon toi em minh la a o u cai thu lua nhe nha chi anh oi"
)


def spoken_choice(text: str, options: int) -> int | None:
    """The option number 1..options when the utterance is only a choice, else None."""
    toks = [t for t in folded_tokens(text) if t not in _AROUND_CHOICE]
    if len(toks) > 1 and len(set(toks)) == 1 and toks[0] != "thu":
        toks = toks[:1]  # "số một, số một nha": the choice said twice
    toks = ["mot" if t in ("nhat", "nhut") else t for t in toks]  # "cái thứ nhất", "nhứt"
    if len(toks) != 1 and not (len(toks) == 2 and toks[0] == "thu"):
        return None
    phrase = parse_number_at(toks, len(toks) - 1)
    if phrase is None or phrase.end != len(toks):
        return None
    return phrase.value if 1 <= phrase.value <= options else None
