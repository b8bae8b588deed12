"""What a spoken answer means: the free transcript as the NLU reads it, and the question's
expected answers as the recogniser scored them (speech issue). Kept apart from the dialog
so the speech benchmark judges exactly what a call does.
"""

from __future__ import annotations

from collections.abc import Callable

from callbot.call.script import Heard, Understood
from callbot.speech.asr.choices import Choices

# A slot read weakly (just over the acceptance threshold: "some request none of the cues
# know" is the menu's "other") from a transcript the recogniser was not sure of is most
# likely noise read as words, not an answer (in a test call, the espeak-ng answers Whisper
# turned to nonsense came back at 0.15–0.55).
WEAK_READING = 0.6
UNSURE_HEARING = 0.6
# Where the keypad can answer instead (closed questions, yes/no), a free reading of a
# transcript the recogniser doubts this much counts only if the reading itself is sure: on
# the tuning speech (espeak-ng answers of tests/data/nlu_corpus.jsonl, clean and 10 dB)
# this took wrong places from 5 % to 0 and wrong subjects from 6 to 3 % for a point or two
# of right answers; asking once more, or the keypad, costs the caller less than a wrong slot.
# A sure reading of such a transcript counts only if the scored answers back it or were not
# scored: a yes heard in nonsense ("được cả" for "chưa chắc") is how a wrong ticket gets
# confirmed. On the spoken 12g, 12h and 12i (tuning by then; 2,412 answers, both voices,
# clean and 10 dB) that took yes/no's wrong answers from 4.7 % to 1.6 % (a yes for a no or
# unclear from 3.3 % to 1.3 %) and subject's from 8.1 % to 4.4 %, for 4.2 points of yes/no
# right and 2.0 of subject's (docs/performance.md).
DOUBTFUL_HEARING = 0.4
SURE_READING = 0.9


def understand_heard(
    understand: Callable[[str], Understood | None],
    event: Heard,
    choices: Choices | None,
    *,
    has_keypad: bool = False,
) -> Understood | None:
    """What a spoken answer means: the free transcript read by the NLU, and the question's
    expected answers as the recogniser scored them (``event.choice``).

    The two agree → that value. Only one says something → that one (the choice's
    thresholds were calibrated on speech to be wrong less than 1 in 20). They disagree →
    unclear, and the question is asked again: a guess is never read back as a fact. A free
    value the choices cannot express (a 2025 ward where the choices are districts) is not
    contradicted by them. A weak reading of a doubtful transcript counts as nothing; where
    the question ``has_keypad``, so does any reading short of sure of a very doubtful one,
    and a sure one the scored answers do not back.
    """
    free = understand(event.text) if event.text else None
    if free is not None and free.confidence < WEAK_READING and event.confidence < UNSURE_HEARING:
        free = None  # a weak reading of a transcript the recogniser itself doubts
    if (
        free is not None
        and has_keypad
        and event.confidence < DOUBTFUL_HEARING
        and free.confidence < SURE_READING
    ):
        free = None
    choice = event.choice
    if choices is None or choice is None:
        return free
    if choice.value is None:
        if free is not None and has_keypad and event.confidence < DOUBTFUL_HEARING:
            # Scored, the question's answers named none, and the transcript is doubtful: a
            # reading of it alone is not enough ("được cả", heard at 0.11 for "chưa chắc",
            # reads as a sure yes). Two readings must agree, or the question is asked again.
            return None if free.value in choices.forms else free
        return free
    if free is None:
        if choice.needs_agreement:  # won by a form the line makes sound like another's
            return None
        return Understood(choice.value, round(choice.confidence, 3), event.text)
    if free.value not in choices.forms:
        return free
    return free if free.value == choice.value else None
