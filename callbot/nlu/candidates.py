"""What each closed question expects, as the texts a caller says: the candidates a
constrained recogniser scores (``WhisperEngine.score``), each tied to the slot value it means.

Several surface forms per value ("quận ba", "quận 3"): the recogniser scores each and the value
takes its best form. Written from the questions' wording and how callers answer them, not
from any evaluation set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from callbot.nlu.numbers import number_to_words
from callbot.nlu.text import fold_word
from callbot.speech.asr.choices import Choices

# With the keys the prompts name said aloud ("Nếu đúng, nói đúng hoặc bấm một"). Each text
# scored costs a decoder pass (~8 ms whatever its length), so forms that add nothing go:
# the bare "đúng", "sai", "phải" (the same words as "đúng rồi", "sai rồi", "phải rồi") and
# the rare "chính xác", "ừ đúng rồi", "chưa đúng", "không đúng". On 812 tuning answers
# (four conditions) the 10 forms gave the same right share at <= 2 % wrong as the 17 did
# (21.6 %); docs/performance.md, 2026-12-03. The free text still reads every form.
YES_NO: dict[str, tuple[str, ...]] = {
    "yes": ("đúng rồi", "dạ đúng", "vâng", "phải rồi", "có", "bấm một"),
    "no": ("sai rồi", "không", "không phải", "bấm hai"),
}

CASE_TYPE: dict[str, tuple[str, ...]] = {
    "essentials": ("lương thực", "thực phẩm", "gạo", "đồ ăn", "lương thực thực phẩm"),
    "support_policy": ("chính sách hỗ trợ", "tiền hỗ trợ", "trợ cấp", "chưa nhận được hỗ trợ"),
    "vulnerable": ("người già", "trẻ em", "người khuyết tật", "bệnh nặng", "người già neo đơn"),
    "other": ("việc khác", "khác", "chuyện khác"),
}

SUBJECT: dict[str, tuple[str, ...]] = {
    "self": ("bản thân", "cho tôi", "cho bản thân"),
    "family": ("gia đình", "cho gia đình", "nhà tôi"),
    "neighbour": ("hàng xóm", "cho hàng xóm"),
    "other": ("người khác", "cho người khác"),
}

_NUMBERED = (1, 3, 4, 5, 6, 7, 8, 10, 11, 12)
_NAMED_QUAN = ("Gò Vấp", "Bình Thạnh", "Tân Bình", "Tân Phú", "Phú Nhuận", "Bình Tân")
_HUYEN = ("Củ Chi", "Hóc Môn", "Bình Chánh", "Nhà Bè", "Cần Giờ")


def _districts() -> dict[str, tuple[str, ...]]:
    """The 2021 units (what most callers still say), canonical name → spoken forms."""
    found: dict[str, tuple[str, ...]] = {}
    for n in _NUMBERED:
        found[f"Quận {n}"] = (f"quận {number_to_words(n)}", f"quận {n}")
    for name in _NAMED_QUAN:
        found[f"Quận {name}"] = (f"quận {name.lower()}", name.lower())
    for name in _HUYEN:
        found[f"Huyện {name}"] = (f"huyện {name.lower()}", name.lower())
    found["Thành phố Thủ Đức"] = ("thủ đức", "thành phố thủ đức", "quận hai", "quận chín")
    return found


DISTRICT = _districts()

# "N người" only: the bare numbers ("năm") doubled the texts scored, hence the decoder's
# cost per answer (426 against 960 ms CPU on a busy box), for 1.4 points of top-1 (31.4
# against 32.8 % on 720 tuning answers, espeak-ng vi and south, clean and 10 dB;
# docs/performance.md, 2026-12-02 evening).
HOUSEHOLD: dict[str, tuple[str, ...]] = {
    str(n): (f"{number_to_words(n)} người",) for n in range(1, 16)
}

BY_SLOT: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "yes_no": YES_NO,
    "case_type": CASE_TYPE,
    "subject": SUBJECT,
    "place": DISTRICT,
    "household": HOUSEHOLD,
}


# Acceptance thresholds per question (min score, min margin; nats), from
# ``bench/calibrate_speech_choices.py`` on the tuning answers (the project's own corpus and
# the answer sets already judged, ``--also``; never a set still judging): the most right
# answers with a wrong value under 2 %. (At 4 %
# the held-out speech gave 6–21 % wrong values: the margin was too thin.) None: no
# operating point met that on the calibration speech, so the question is not scored at all
# (it would cost a decoder pass per answer for nothing) and relies on free text and keys.
# The run behind these figures is in docs/performance.md.
THRESHOLDS: Mapping[str, tuple[float, float] | None] = {
    # On 720–776 tuning answers per question (the corpus and the judged 12, 12b, 12c; two
    # voices, clean and 10 dB; 2026-12-02 evening), share of answers given the right value
    # and a wrong one. The thresholds before, chosen on 20–31 answers of the corpus alone,
    # were over 2 % wrong on these: yes/no (4.0, 2.5) 15.9 / 4.0 %, subject (8.0, 4.0)
    # 6.6 / 4.7 %, household (5.5, 2.25, with 30 forms) 10.6 / 4.6 %.
    # Chosen again 2026-12-03 on 1,212–1,264 tuning answers (12d and 12e added, used up as
    # judges) on an AVX-512 EPYC, where scoring separates far better than on the AVX2-only
    # box above (int8 kernels differ): the points before gave yes/no 24.3 / 2.7 % and
    # household 14.7 / 2.9 % there, over the 2 %; subject's (9.75, 5.75) gave 13.7 / 1.8 %.
    # 2026-12-03 evening, yes/no's 10 forms on 1,488 tuning answers (12f added, used up),
    # an AVX-512 Intel Xeon: the search's best, (3.75, 4.25), gave 22.6 % right at 1.9 %
    # wrong; this point 20.0 % at 1.2 %. Kept: wrong values are what the held-out speech
    # doubles, and the margin-led point refused the natural recording of "đúng rồi" that
    # the load tester's speech-first callers say (this point accepts it, as before).
    "yes_no": (6.0, 1.25),
    "subject": (9.75, 5.75),  # 13.7 % right, 1.8 % wrong
    "household": (5.0, 3.5),  # 15 "N người" forms: 15.2 % right, 2.0 % wrong
    # Callers answer the case type in sentences ("nhà tôi hết gạo rồi, cần hỗ trợ lương
    # thực"); a short label forced over a sentence picks whichever shares a word ("hỗ trợ"
    # → support policy, in a live call). The case type is read from free text only.
    "case_type": None,
    # 52 texts per answer (about 0.3 s more decoding) for 5.7 % of places at 3.6 % wrong
    # (-1.0, 5.25): not worth a caller's wait; free text and the keypad codes instead.
    "place": None,
}

# Initials the telephone band merges: /f/ (ph) and /s/ (s, x) differ mostly above 3.4 kHz,
# where the line stops; on tuning speech "phải" (yes) came back as "sai" (no) at a wide
# margin in 5 of 16 wrong yes/no picks.
_BAND_MERGED_INITIALS = (("ph", "s"), ("x", "s"), ("f", "s"))


def _line_key(form: str) -> tuple[str, ...]:
    """How a form may sound down a phone line: tones folded, band-merged initials joined."""
    key = []
    for syllable in form.lower().split():
        folded = fold_word(syllable)
        for initial, same in _BAND_MERGED_INITIALS:
            if folded.startswith(initial):
                folded = same + folded[len(initial) :]
                break
        key.append(folded)
    return tuple(key)


def telephone_twins(forms: Mapping[str, Sequence[str]]) -> frozenset[str]:
    """The forms that may sound, down a phone line, like a form of *another* value."""
    values_by_key: dict[tuple[str, ...], set[str]] = {}
    for value, texts in forms.items():
        for text in texts:
            values_by_key.setdefault(_line_key(text), set()).add(value)
    return frozenset(
        text
        for texts in forms.values()
        for text in texts
        if len(values_by_key[_line_key(text)]) > 1
    )


CHOICES: Mapping[str, Choices] = {
    slot: Choices(forms, *limits, confusable=telephone_twins(forms))
    for slot, forms in BY_SLOT.items()
    if (limits := THRESHOLDS[slot]) is not None
}


def surface_forms(choices: Mapping[str, Sequence[str]]) -> tuple[list[str], list[str]]:
    """Flattened (texts, values): what to score, and the value each text stands for."""
    return Choices({v: tuple(f) for v, f in choices.items()}, 0.0, 0.0).texts()
