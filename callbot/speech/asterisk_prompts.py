"""The bot's prompts in Asterisk's sound layout, for what Asterisk itself plays
(``callbot prompts render --asterisk DIR``; docs/asterisk/README.md says where DIR goes).

Asterisk looks a sound name up as ``<sounds>/<language>/<name>.<format>``. Three groups:

* ``vi/callbot/<prompt>.wav`` — every prompt of prompts/ (the operator's announcement of a
  handed-back ticket: handback_ticket, digit_*, case_*, place_*; the offer of the bot; the
  callback message);
* ``vi/digits/<n>.wav`` — number words where Asterisk's number reader looks for them.
  Asterisk has no Vietnamese number grammar and reads other languages the English way
  (``digits/20`` then ``digits/1``), which for the small numbers a queue announces
  (position, minutes) gives "hai mươi một";
* ``vi/queue-*.wav`` — the sounds app_queue plays for ``announce-position`` in our words,
  so the position announcement is Vietnamese instead of Asterisk's English fallback.

Files are 8 kHz 16-bit mono PCM WAV, the format Asterisk's ``format_wav`` plays without
transcoding.
"""

from __future__ import annotations

from pathlib import Path

from callbot.speech.prompts import PromptLibrary
from callbot.speech.wav import write_wav_8k

LANGUAGE = "vi"
SOUNDS_FOLDER = "callbot"

# Asterisk's digits/ names → our prompt names.
NUMBER_SOUNDS: dict[str, str] = {
    **{f"digits/{n}": f"digit_{n}" for n in range(10)},
    **{f"digits/{n}": f"number_{n}" for n in (*range(10, 21), 30, 40, 50, 60, 70, 80, 90)},
    "digits/hundred": "number_hundred",
    "digits/thousand": "number_thousand",
}
# app_queue's default sound names (queues.conf queue-thereare = … to change them).
QUEUE_SOUNDS: dict[str, str] = {
    "queue-youarenext": "wait_next",
    "queue-thereare": "wait_position",  # "Bạn đang ở vị trí số" <n>
    "queue-callswaiting": "wait_in_line",  # "trong hàng chờ"
    "queue-thankyou": "wait_thanks",
}


def asterisk_sounds(library: PromptLibrary) -> dict[str, str]:
    """Sound name as the dialplan writes it (``callbot/digit_4``, ``digits/20``) → the
    prompt whose audio it plays."""
    sounds = {f"{SOUNDS_FOLDER}/{name}": name for name in library.texts}
    sounds.update(NUMBER_SOUNDS)
    sounds.update(QUEUE_SOUNDS)
    return sounds


def sound_file(out_dir: Path, sound: str, language: str = LANGUAGE) -> Path:
    return out_dir / language / f"{sound}.wav"


def render_for_asterisk(
    library: PromptLibrary, out_dir: Path, language: str = LANGUAGE
) -> list[Path]:
    """Write every sound of :func:`asterisk_sounds` under ``out_dir/<language>/``, from the
    prompts' audio (a studio override first, else the rendered file, else TTS)."""
    written = []
    for sound, prompt in sorted(asterisk_sounds(library).items()):
        path = sound_file(out_dir, sound, language)
        write_wav_8k(path, library.audio(prompt))
        written.append(path)
    return written
