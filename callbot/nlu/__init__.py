"""Vietnamese understanding: slot extractors over recogniser text.

Every extractor is a pure function of the utterance text (as Vosk or Whisper wrote it) that
returns an :class:`Extraction` or ``None``; keypad helpers map DTMF digits to the same values.
"""

from callbot.nlu.address import extract_address
from callbot.nlu.case_type import CASE_TYPES, case_type_from_key, extract_case_type
from callbot.nlu.correction import extract_correction
from callbot.nlu.extraction import Extraction
from callbot.nlu.household import extract_household
from callbot.nlu.human_request import wants_human
from callbot.nlu.name import extract_name
from callbot.nlu.numbers import digits_to_words, number_to_words, words_to_number
from callbot.nlu.phone import check_phone, digits_from_keypad, extract_phone
from callbot.nlu.place import Place, PlaceExtraction, extract_place, place_phrases
from callbot.nlu.subject import SUBJECTS, extract_subject, subject_from_key
from callbot.nlu.text import fold, normalise
from callbot.nlu.yes_no import extract_yes_no, yes_no_from_key

__all__ = [
    "CASE_TYPES",
    "SUBJECTS",
    "Extraction",
    "Place",
    "PlaceExtraction",
    "case_type_from_key",
    "check_phone",
    "digits_from_keypad",
    "digits_to_words",
    "extract_address",
    "extract_case_type",
    "extract_correction",
    "extract_household",
    "extract_name",
    "extract_phone",
    "extract_place",
    "extract_subject",
    "extract_yes_no",
    "fold",
    "normalise",
    "number_to_words",
    "place_phrases",
    "subject_from_key",
    "wants_human",
    "words_to_number",
    "yes_no_from_key",
]
