"""Yes/no answers, to the readback ("Số điện thoại là …, đúng không ạ?") and to closed questions.

"không" is both "no" and the digit zero; only the question tells which, so the dialog passes
``expect``: with ``expect="yes_no"`` a bare "không" is "no"; with anything else (the bot
asked for digits) an utterance made only of number words is not a yes/no answer.
"""

from __future__ import annotations

import re
import unicodedata

from callbot.nlu.extraction import ACCEPT_CONFIDENCE, Extraction
from callbot.nlu.hesitation import withdrawn
from callbot.nlu.numbers import NUMBER_WORDS
from callbot.nlu.text import fold, fold_word, normalise, split_self_correction, word_set
from callbot.nlu.yes_no_hedges import CLAUSE_BREAK as _BREAK
from callbot.nlu.yes_no_hedges import HEDGED_YES, deliberation_end, is_hedged, without_softeners
from callbot.nlu.yes_no_number import on_the_number
from callbot.nlu.yes_no_spelling import clipped_no_at, respellings, respelt
from callbot.nlu.yes_no_turns import names_wrong_detail, one_sound_slips, qualified_yes, split_turn

_CLAUSE_MARK = re.compile(r"[,.;:!?…]")
# The question echoed back before the answer ("gọi lại số này hả... ừm, được"): the answer
# is what follows the pause after it.
_ECHOED = re.compile(r"\b(?:hả|hở)\s*[,.;:!?…]+\s*(?=\w)")

YES = "yes"
NO = "no"
EXPECT_YES_NO = "yes_no"
UNCLEAR = 0.45  # below ivr.MIN_CONFIDENCE: asked again

# Folded two-word phrases, checked before single words: a negated "yes" word is "no" and a
# negated "no" word is "yes" ("không sai" = correct).
_NEGATORS = frozenset({"khong", "chua", "chang", "hong", "ko", "k", "dau"})
_YES_WORDS = word_set("dung vang phai u um uh uhm co ok oke okay duoc chuan yes dong chinh chac")
# "trật", "lộn": Southern for wrong ("trật rồi", "chị ghi lộn rồi").
_NO_WORDS = word_set("khong ko hong hok sai chua nham no khoi trat lon dungneg")
# "đừng" (don't: "đừng gọi số này") folds to "dung" like "đúng": read by its marks only.
# "ừa" (Southern yes) folds to "ua" like "ủa" (puzzled): it too counts by its marks only.
# "trúng" (Southern "đúng": "trúng rồi") folds to "trung" like "Trung", a name: by its marks.
_EXACT_WORDS = {"đừng": "dungneg", "ừa": "u", "trúng": "dung"}
# "thôi" leading the answer refuses ("thôi, đừng gọi số này"); elsewhere it is "only".
_LEADING_NO = "thoi"
# "rồi" ends answers of both kinds ("sai số điện thoại rồi", "đúng rồi"): a yes only when
# nothing else in the answer says which ("rồi", "dạ rồi").
_PARTICLE_YES = frozenset({"roi"})
# The prompt's keys said aloud: "bấm một", "dạ hai" (1 = đúng/có, 2 = sai/không).
_KEY_WORDS = {"mot": YES, "1": YES, "hai": NO, "2": NO}
_AROUND_KEY = frozenset({"bam", "so", "phim", "nut", "da", "a", "vang", "e"})
# Acknowledgement particles: yes when nothing else is said ("dạ", "ờ").
# (Not "o": "ờ" is a hesitation, dropped before this; typed plain, "o" may be "ở", "ô".)
_WEAK_YES = frozenset({"da", "a"})
# ... and the words that may stand beside them: "rồi em", "dạ rồi chị". Any other word
# ("Xai rồi": a misheard "sai") leaves the particles saying nothing.
_BESIDE_PARTICLES = word_set("da a ạ vâng rồi em chị anh cô chú bác con cháu ơi nha nhé")
# The answer words as they are written, tone marks and all. Matching is tones first: folded
# alone, "cô" (aunt), "cơ" and "có" (yes) are one word, as are "vàng" (gold) and "vâng",
# "Sài" (Gòn) and "sai", "chùa" and "chưa" — and a recogniser that heard "cô" wrote the
# marks it heard. A token written with other marks than these is not an answer word; one
# written with no marks at all (a keyboard, "ok", "khong") still is, but less surely.
_MARKED = word_set(
    "đúng vâng vầng phải ừ ư ừm uh uhm um có rồi ok oke okay được chuẩn yes đồng chính chắc "
    "không ko k hông hổng hok sai chưa nhầm no khỏi chẳng đâu xác ý dạ ờ ơ à ạ a chắn trật lộn "
    "một hai bấm số phím nút y thôi"
)
_BY_FOLD: dict[str, frozenset[str]] = {}
for _word in _MARKED:
    _BY_FOLD[fold_word(_word)] = _BY_FOLD.get(fold_word(_word), frozenset()) | {_word}
_OTHER_WORD = "·"  # matches no cue
_RESPELLINGS = respellings(_MARKED)  # "đuợc", "đựơc": "được" written askew
NO_MARKS = 0.7  # an answer read from words written without their tone marks
SLIP = 0.65  # an answer read from a word heard one sound off ("Xai rồi", "Đượt")
HEDGED_NO = 0.75  # "hình như sai thì phải": a no, to ask what is wrong


# Answer words heard one sound off ("Xai rồi", "Đượt"), less surely (yes_no_turns.py).
_SLIPS = {s: w for s, w in one_sound_slips().items() if s not in _MARKED}
# Forms the recogniser writes for answer words more than one sound off, or with a tone lost
# ("dạ dún", "đung rùi"): read as slips, less surely.
_SLIPS |= {"dúng": "đúng", "dún": "đúng", "đung": "đúng", "đúg": "đúng", "rùi": "rồi"}
# Phrases checked before single words ("sai rồi" is no although "rồi" alone is yes).
_NO_PHRASES = (
    "chua dung",
    "chua chinh xac",
    "khong chinh xac",
    "chua phai",
    "khong phai",
    "sai roi",
    "nham roi",
)
_YES_PHRASES = (
    "khong sai",
    "chua sai",
    "khong nham",
    "chinh xac",
    "dung roi",
    "dong y",
    "y chang",
)
# (Hedged and puzzled answers, and the softeners read past them: yes_no_hedges.py.)
# A clause ending "<answer word> không?" asks back ("nói lại được không ạ?", "có phải không
# em"): its answer word is not an answer. The words that may end it after the "không":
_ASKING_TAIL = word_set("a em chi anh co chu bac con chau ha ho vay dzay ta nhi")
_ASKED_WORDS = frozenset({"dung", "duoc", "phai", "co", "sai", "nham", "chac", "lon", "trat"})
# Answers said as idioms, whose words alone say the opposite ("làm gì có": there is none),
# matched with their marks ("có đâu" folded is also "cô dâu").
_IDIOMS = (
    ("làm gì có", NO),
    ("có đâu", NO),
    ("chứ sao", YES),
    ("chứ gì", YES),
    ("chứ còn gì", YES),
)
# A clause that asks when or where ("bao giờ mới có người tới?") answers nothing: its "có"
# is not a yes. (Not after "không": "không bao giờ" is "never".)
_QUESTIONS = ("bao giờ", "khi nào", "chừng nào", "bao lâu", "mấy giờ", "ở đâu", "chỗ nào")
# "có" before a quantity says there is something, not yes: "có mấy chỗ chưa đúng".
_COUNTED = word_set("may vai mot hai ba chut xiu cho cai nhieu it phan diem")
# Words that answer, before a deliberation ("đúng, để tôi xem lại"): the answer was given.
_ANSWERING = _YES_WORDS | _NO_WORDS | _NEGATORS
# The answer words that commit a hedged yes ("chắc là đúng", "hình như có", "chắc không sai
# đâu"), folded; a particle does not ("chắc ừ").
_COMMITTING = frozenset({"dung", "duoc", "phai", "chinh", "vang", "co", "sai"})
# Particles that may open a clause before its answer word ("dạ, không").
_CLAUSE_OPENERS = frozenset({"da", "a", "o", "e"})


def yes_no_from_key(digit: str) -> str | None:
    """IVR convention used by the readback prompt: 1 = đúng (yes), 2 = sai (no)."""
    return {"1": YES, "2": NO}.get(digit)


def extract_yes_no(text: str, *, expect: str = EXPECT_YES_NO) -> Extraction | None:
    # "Sai… à không, đúng, đúng rồi": what the caller said after correcting themselves.
    # "Đúng rồi, ủa khoan, sai số nhà rồi": the answer after the turn; none after it, and
    # the first one was taken back.
    if expect == EXPECT_YES_NO:
        settled = on_the_number(text)  # "gọi số khác đi", "… chứ không phải mười một"
        if settled is not None:
            return Extraction(settled, 0.85 if settled == NO else 0.8, text.strip(" ,.…"))
    if expect == EXPECT_YES_NO and withdrawn(text):
        return Extraction(YES, UNCLEAR, text)  # "đúng, à thôi, để tôi coi lại": taken back
    turn = split_turn(text) if expect == EXPECT_YES_NO else None
    if turn is not None:
        after, takes_back = turn
        found = extract_yes_no(after, expect=expect) if after.strip(" ,.…") else None
        if found is not None:
            return found
        if takes_back:
            return Extraction(YES, UNCLEAR, text)
    corrected = split_self_correction(text) if expect == EXPECT_YES_NO else None
    # "Sai rồi, à không, đúng rồi, tôi nghe nhầm": a mark ending the answer explains the
    # correction before it.
    while corrected is not None and not corrected[1].strip(" ,.…!?"):
        corrected = split_self_correction(corrected[0])
    if corrected is not None and corrected[1].strip(" ,.…") and not _restating(text, *corrected):
        found = _extract(corrected[1], expect)
        # (Unclear after it, the whole answer decides: "hình như ghi lộn rồi thì phải".)
        if found is not None and found.confidence >= ACCEPT_CONFIDENCE:
            return found
        if names_wrong_detail(corrected[1]):
            # "Ừ đúng, à không, cái số chị đọc thiếu một số": the yes taken back for a
            # part of the readback that is wrong.
            return Extraction(NO, 0.85, corrected[1].strip(" ,.…"))
    said = unicodedata.normalize("NFC", text).lower()
    echoes = list(_ECHOED.finditer(said)) if expect == EXPECT_YES_NO else []
    if echoes:
        found = _extract(said[echoes[-1].end() :], expect)
        if found is not None and found.confidence >= ACCEPT_CONFIDENCE:
            return found
    return _extract(text, expect)


def _extract(text: str, expect: str) -> Extraction | None:
    # Whisper's punctuation separates answers: "Không, sai rồi." is no, "không sai" is yes.
    # A clause mark becomes a token that no phrase matches across.
    acc = normalise(_CLAUSE_MARK.sub(f" {_BREAK} ", text)).split()
    if not any(t != _BREAK for t in acc):
        return None
    fol, _ = _answer_words(acc)  # hedges below still read the plain folded text
    fol = _without_questions(acc, fol)
    plain = [fold_word(t) for t in acc]
    if expect != EXPECT_YES_NO and all(
        t in NUMBER_WORDS or t.isdigit() or t == _BREAK for t in plain
    ):
        return None  # digits, not an answer: "không chín không…"
    padded = " " + " ".join(fol) + " "
    exact = " " + " ".join(acc) + " "
    folded = " " + " ".join(plain) + " "
    end = deliberation_end(plain)
    rest = [t for t in acc[end + 1 :] if t != _BREAK] if end is not None else []
    if rest and not any(t in _ANSWERING for t in fol[:end]):
        # "Để xem… ừ, đúng rồi": the answer after the thinking aloud (none before it).
        return _extract(" ".join("," if t == _BREAK else t for t in acc[end + 1 :]), expect)
    hedged = is_hedged(exact, folded, plain)
    said = " ".join(t for t in acc if t != _BREAK)
    if hedged and " chac chan " not in padded:  # "chắc chắn" is sure, not a hedge
        return Extraction(YES, UNCLEAR, said)
    softened = without_softeners(acc, typed_plain=exact == folded)
    if softened == acc:
        return _read(acc, text, expect)
    found = _read(softened, text, expect) if any(t != _BREAK for t in softened) else None
    if found is not None and found.value == NO and found.confidence >= ACCEPT_CONFIDENCE:
        return Extraction(NO, min(found.confidence, HEDGED_NO), found.heard)
    # "Chắc là đúng", "tôi nghĩ là được, chắc vậy": hedged but committed, a yes only just
    # above the acceptance threshold (puzzled answers were left unclear above). Only a word
    # that judges the readback commits: "chắc ừ", "chắc có" do not.
    if (
        found is not None
        and found.value == YES
        and found.confidence >= ACCEPT_CONFIDENCE
        and set(fold(found.heard).split()) & _COMMITTING
    ):
        return Extraction(YES, min(found.confidence, HEDGED_YES), found.heard)
    return Extraction(YES, UNCLEAR, said)


def _read(acc: list[str], text: str, expect: str) -> Extraction | None:
    """The answer the cues of ``acc`` (normalised tokens, clause marks kept) give."""
    exact = " " + " ".join(acc) + " "
    folded = " " + " ".join(fold_word(t) for t in acc) + " "
    typed_plain = exact == folded
    fol, unmarked = _answer_words(acc, slips=not typed_plain)
    fol = _without_questions(acc, fol)
    padded = " " + " ".join(fol) + " "
    for idiom, answer in _IDIOMS:
        if f" {fold(idiom) if typed_plain else idiom} " in (folded if typed_plain else exact):
            return Extraction(answer, 0.85, idiom)
    # Earliest decisive cue wins: callers lead with the answer ("dạ không, sai rồi").
    cues: list[tuple[int, str, int]] = []  # (token position, answer, tokens long)
    for phrases, answer in ((_NO_PHRASES, NO), (_YES_PHRASES, YES)):
        for phrase in phrases:
            pos = padded.find(f" {phrase} ")
            if pos != -1:
                cues.append((padded[: pos + 1].count(" ") - 1, answer, phrase.count(" ") + 1))
    covered = {p + k for p, _, n in cues for k in range(n)}
    opening = _clause_openings(fol)
    for i, tok in enumerate(fol):
        if i in covered:
            continue
        nxt = fol[i + 1] if i + 1 < len(fol) else ""
        third = fol[i + 2] if i + 2 < len(fol) else ""
        not_wrong = _not_wrong_end(fol, i) if tok in _NEGATORS else None
        if not_wrong is not None:
            cues.append((i, YES, not_wrong - i))  # "không có sai", "không có gì sai"
            covered |= set(range(i, not_wrong))
        elif tok in _NEGATORS and nxt == "co" and third in _YES_WORDS:
            cues.append((i, NO, 3))  # "hổng có đúng"
            covered |= {i, i + 1, i + 2}
        elif tok == _LEADING_NO:
            if i == opening[0] and nxt not in _YES_WORDS:
                cues.append((i, NO, 1))
        elif tok in _NEGATORS and nxt in _YES_WORDS:
            cues.append((i, NO, 2))
            covered |= {i, i + 1}
        elif tok in _NEGATORS and nxt in ("sai", "nham"):
            cues.append((i, YES, 2))
            covered |= {i, i + 1}
        elif tok in _NEGATORS and fold_word(acc[i + 1] if i + 1 < len(acc) else "") == "sao":
            covered |= {i, i + 1}  # "không sao": no matter, not a no
        elif tok in _NO_WORDS:
            cues.append((i, NO, 1))
        elif tok == "co" and fold_word(acc[i + 1] if i + 1 < len(acc) else "") in _COUNTED:
            continue  # "có mấy chỗ sai": there are some, not yes
        elif tok in _YES_WORDS:
            cues.append((i, YES, 1))
    if not cues:
        said = " ".join(t for t in acc if t != _BREAK)
        keys = [t for t in fol if t not in _AROUND_KEY and t != _BREAK]
        if expect == EXPECT_YES_NO and len(keys) == 1 and keys[0] in _KEY_WORDS:
            return Extraction(_KEY_WORDS[keys[0]], 0.8, said)
        particles = all(
            t in _BESIDE_PARTICLES or fold_word(t) in _BESIDE_PARTICLES or t == _BREAK for t in acc
        )
        if any(t in _WEAK_YES or t in _PARTICLE_YES for t in fol) and len(fol) <= 3 and particles:
            return Extraction(YES, 0.6, said)
        return None
    cues.sort()
    # The clause that answers decides; a later clause counts only where it opens with an
    # answer ("sai rồi, nhà có năm người thôi": that "có" explains, it does not answer).
    clause = _clause_of(fol)
    first_clause = clause[cues[0][0]]
    cues = [c for c in cues if clause[c[0]] == first_clause or c[0] in opening]
    first_pos, answer, length = cues[0]
    agree = all(a == answer for _, a, _ in cues)
    heard = " ".join(t for t in acc[first_pos : first_pos + length] if t != _BREAK)
    # Cues that disagree ("không sai rồi": Whisper dropped the comma of "Không, sai rồi", or
    # the caller meant "not wrong") are an unclear answer, below the dialog's acceptance
    # threshold: the bot asks again rather than file a ticket the caller did not confirm.
    # "Đúng rồi, nhưng số nhà sai": the readback is wrong; "…nhưng tới lẹ giùm" confirms;
    # "…nhưng mà tên là Lan" qualifies it otherwise: not a confirmation to file on.
    qualified = qualified_yes(text) if answer == YES else None
    if qualified == NO:
        return Extraction(NO, 0.85, heard)
    if not agree or qualified == "unclear":
        return Extraction(answer, UNCLEAR, heard)
    surest = min(unmarked[first_pos : first_pos + length], default=1.0)
    return Extraction(answer, 0.92 if surest == 1.0 else surest, heard)


def _restating(text: str, before: str, after: str) -> bool:
    """Whether the correction mark between ``before`` and ``after`` only asks or offers to
    say it again ("nói lại được không?", "để tôi đọc lại"): what follows is no new answer."""
    said = unicodedata.normalize("NFC", text).lower()
    return fold(said[len(before) : len(said) - len(after)]).split()[-1:] == ["lai"]


def _without_questions(acc: list[str], fol: list[str]) -> list[str]:
    """The answer words with those of a clause that asks a question masked out."""
    typed_plain = all(t == fold_word(t) for t in acc)
    seen = [fold_word(t) for t in acc] if typed_plain else acc
    asked: set[int] = set()
    clause = _clause_of(fol)
    for question in _QUESTIONS:
        words = (fold(question) if typed_plain else question).split()
        for i in range(len(seen) - len(words) + 1):
            # (Not after a "không": "không (có chỗ nào) sai".)
            negated = "khong" in (fold_word(t) for t in seen[max(0, i - 2) : i])
            if seen[i : i + len(words)] == words and not negated:
                asked.add(clause[i])
    for n in set(clause):
        # "… được không ạ?": the clause's words, its asking tail dropped, end "<word> không".
        words = [i for i in range(len(fol)) if clause[i] == n and fol[i] != _BREAK]
        while words and fold_word(acc[words[-1]]) in _ASKING_TAIL:
            words.pop()
        tail = [fol[i] for i in words[-2:]]
        if len(tail) == 2 and tail[1] in ("khong", "hong", "ko") and tail[0] in _ASKED_WORDS:
            asked.add(n)
    if not asked:
        return fol
    return [_OTHER_WORD if clause[i] in asked and t != _BREAK else t for i, t in enumerate(fol)]


def _not_wrong_end(fol: list[str], i: int) -> int | None:
    """Where "không (có) (gì, chỗ nào) sai" ends, when a negator at i starts one."""
    for j in range(i + 1, min(len(fol), i + 5)):
        if fol[j] in ("sai", "nham"):
            return j + 1
        answer_word = fol[j] in _YES_WORDS or fol[j] in _NO_WORDS or fol[j] in _NEGATORS
        if fol[j] == _BREAK or (answer_word and fol[j] != "co"):
            return None
    return None


def _clause_of(fol: list[str]) -> list[int]:
    """The clause (between written pauses) each token is in."""
    out, n = [], 0
    for tok in fol:
        n += tok == _BREAK
        out.append(n)
    return out


def _clause_openings(fol: list[str]) -> list[int]:
    """The position of each clause's first word past its opening particles."""
    openings, start = [], True
    for i, tok in enumerate(fol):
        if tok == _BREAK:
            start = True
        elif start and tok not in _CLAUSE_OPENERS:
            openings.append(i)
            start = False
    return openings or [0]


def _answer_words(tokens: list[str], *, slips: bool = False) -> tuple[list[str], list[float]]:
    """Each token as the folded answer word it is (tones first), or ``_OTHER_WORD``; and
    how surely: 1.0, or less when read from a token written without marks or one sound off.
    ``slips``: read words one sound off, as in a text written with marks (typed plain,
    "xai" may be "xài")."""
    words: list[str] = []
    sure: list[float] = []
    for token in tokens:
        folded = fold_word(token)
        if token in _EXACT_WORDS:
            words.append(_EXACT_WORDS[token])
            sure.append(1.0)
        elif token == _BREAK or token in _BY_FOLD.get(folded, ()):
            words.append(folded)
            sure.append(1.0)
        elif (askew := respelt(token, _RESPELLINGS)) is not None:
            words.append(fold_word(askew))
            sure.append(SLIP)
        elif slips and token in _SLIPS:
            words.append(fold_word(_SLIPS[token]))
            sure.append(SLIP)
        elif token == folded:  # no marks written: the folded word is all there is
            words.append(folded)
            sure.append(NO_MARKS if folded in _BY_FOLD else 1.0)
        else:
            words.append(_OTHER_WORD)
            sure.append(1.0)
    for i in range(len(tokens)):
        if clipped_no_at(words, tokens, i):  # "khôn đúng": "không" cut short
            words[i], sure[i] = "khong", SLIP
    return words, sure
