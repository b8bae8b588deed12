"""The 1022 intake call, as data: what the bot asks, in which order, and how answers are
understood and read back. A city changes its script here (and the wording in
prompts/texts.toml) without touching the engine in callbot/call/dialog.py.

Flow: greeting with the recording notice → case type → subject → place → street address →
household size → name → callback number → a short description → readback of everything
with one chance to correct a field → goodbye with the ticket number read out.
Only case type, place and callback number are required for a *complete* ticket; the rest
help the agency but a caller who cannot give them is not held up.
"""

from __future__ import annotations

from callbot.call.dialog import (
    Digits,
    KeypadSpec,
    Piece,
    Prompt,
    Question,
    Script,
    Text,
    Understood,
)
from callbot.nlu.address import extract_address
from callbot.nlu.candidates import CHOICES
from callbot.nlu.case_type import case_type_from_key, extract_case_type
from callbot.nlu.correction import extract_correction
from callbot.nlu.extraction import ACCEPT_CONFIDENCE, Extraction
from callbot.nlu.household import extract_household
from callbot.nlu.human_request import wants_human
from callbot.nlu.name import extract_name
from callbot.nlu.phone import digits_from_keypad, extract_phone
from callbot.nlu.place import extract_place, place_phrases
from callbot.nlu.place_keys import place_from_keys
from callbot.nlu.subject import extract_subject, subject_from_key
from callbot.nlu.urgency import assess_urgency
from callbot.nlu.yes_no import extract_yes_no
from callbot.speech.place_prompts import place_prompt_names

# Below this, an extraction is "not understood" and the question is asked again.
MIN_CONFIDENCE = ACCEPT_CONFIDENCE
# An address or a name heard below this (the transcript's own confidence, Whisper's mean
# token probability) is stored for the operator but not read back to the caller.
OPEN_READBACK_CONFIDENCE = 0.6


def _understood(extraction: Extraction | None) -> Understood | None:
    if extraction is None or extraction.confidence < MIN_CONFIDENCE:
        return None
    return Understood(extraction.value, extraction.confidence, extraction.heard)


def _menu(from_key):  # keypad 1–4 menus
    def understand(keys: str) -> Understood | None:
        value = from_key(keys[:1])
        return Understood(value, 1.0, keys) if value else None

    return understand


def _place_from_keys(keys: str) -> Understood | None:
    """Keypad fallback: the district's code (callbot/nlu/place_keys.py)."""
    return _understood(place_from_keys(keys))


def _count_from_keys(keys: str) -> Understood | None:
    number = keys.rstrip("#")
    if not number.isdigit() or not 1 <= int(number) <= 50:
        return None
    return Understood(str(int(number)), 1.0, keys)


# The correction detector names fields in its own words; the dialog uses slot names.
_CORRECTION_SLOTS = {"phone": "callback_number", "household": "household_size"}


def _field_to_correct(text: str) -> str | None:
    found = extract_correction(text)
    if found is None or found.confidence < MIN_CONFIDENCE:
        return None
    return _CORRECTION_SLOTS.get(found.value, found.value)


def _place_readback(name: str) -> tuple[Piece, ...]:
    prompt = place_prompt_names().get(name)
    return (Prompt(prompt),) if prompt else (Text(name),)


def _free_text(text: str) -> Understood | None:
    text = text.strip()
    return Understood(text, 0.5, text) if len(text.split()) >= 2 else None


QUESTIONS = (
    Question(
        slot="case_type",
        prompt="ask_case_type",
        understand=lambda text: _understood(extract_case_type(text)),
        from_keys=_menu(case_type_from_key),
        keypad=KeypadSpec(1),
        keypad_prompt="ask_case_type_keypad",
        phrases=("lương thực", "thực phẩm", "hỗ trợ", "chính sách", "người già", "trẻ em"),
        choices=CHOICES.get("case_type"),
        readback=lambda value: (Prompt(f"case_{value}"),),
        correction_key="1",
    ),
    Question(
        slot="subject",
        prompt="ask_subject",
        understand=lambda text: _understood(extract_subject(text)),
        from_keys=_menu(subject_from_key),
        keypad=KeypadSpec(1),
        keypad_prompt="ask_subject_keypad",
        phrases=("bản thân", "gia đình", "hàng xóm", "người khác"),
        choices=CHOICES.get("subject"),
        required=False,
        readback=lambda value: (Prompt(f"subject_{value}"),),
    ),
    Question(
        slot="place",
        prompt="ask_place",
        understand=lambda text: _understood(extract_place(text)),
        from_keys=_place_from_keys,
        keypad=KeypadSpec(2),
        keypad_prompt="ask_place_keypad",
        phrases=tuple(place_phrases()),
        choices=CHOICES.get("place"),
        readback=_place_readback,
        correction_key="2",
    ),
    Question(
        slot="address",
        prompt="ask_address",
        understand=lambda text: _understood(extract_address(text)),
        required=False,
        readback=lambda value: (Text(value),),
        readback_min_confidence=OPEN_READBACK_CONFIDENCE,
    ),
    Question(
        slot="household_size",
        prompt="ask_household",
        understand=lambda text: _understood(extract_household(text)),
        from_keys=_count_from_keys,
        keypad=KeypadSpec(2),
        keypad_prompt="ask_household_keypad",
        choices=CHOICES.get("household"),
        required=False,
        readback=lambda value: (Prompt("household_intro"), Digits(value), Prompt("people")),
    ),
    Question(
        slot="name",
        prompt="ask_name",
        understand=lambda text: _understood(extract_name(text)),
        required=False,
        readback=lambda value: (Text(value),),
        readback_min_confidence=OPEN_READBACK_CONFIDENCE,
    ),
    Question(
        slot="callback_number",
        prompt="ask_callback",
        understand=lambda text: _understood(extract_phone(text)),
        from_keys=lambda keys: _understood(digits_from_keypad(keys)),
        keypad=KeypadSpec(11),
        keypad_prompt="ask_callback_keypad",
        readback=lambda value: (Prompt("phone_intro"), Digits(value)),
        correction_key="3",
        offer_prompt="offer_caller_number",
    ),
    Question(
        slot="description",
        prompt="ask_description",
        understand=_free_text,
        required=False,
        readback=lambda value: (),
    ),
)


def _goodbye(ticket_id: int | None) -> tuple[Piece, ...]:
    number = (Digits(str(ticket_id)),) if ticket_id is not None else ()
    return (Prompt("goodbye"), *number, Prompt("goodbye_end"))


def _goodbye_incomplete(ticket_id: int | None) -> tuple[Piece, ...]:
    number = (Digits(str(ticket_id)),) if ticket_id is not None else ()
    return (Prompt("goodbye_incomplete"), *number, Prompt("goodbye_end"))


SCRIPT = Script(
    greeting=(Prompt("greeting"),),
    questions=QUESTIONS,
    readback_intro="readback_intro",
    confirm_prompt="confirm",
    which_field_prompt="which_field",
    goodbye=_goodbye,
    goodbye_incomplete=_goodbye_incomplete,
    no_input_goodbye=(Prompt("no_input_goodbye"),),
    handback_prompt=(Prompt("handback"),),
    no_operator_prompt=(Prompt("no_operator"),),
    handback_failed_prompt=(Prompt("handback_failed"),),
    unsure_readback=(Prompt("heard_unsure"),),
    understand_yes_no=lambda text: _understood(extract_yes_no(text)),
    yes_no_choices=CHOICES.get("yes_no"),
    wants_human=wants_human,
    which_field=_field_to_correct,
    urgency=assess_urgency,  # issue 17: triage of what the caller says (docs/triage.md)
    emergency_prompt=(Prompt("emergency_numbers"),),
)
