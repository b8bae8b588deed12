"""`callbot prompts render --asterisk DIR` writes the prompts where and how Asterisk plays
them: DIR/vi/callbot/<prompt>.wav, DIR/vi/digits/<n>.wav, DIR/vi/queue-*.wav, each 8 kHz
16-bit mono PCM WAV, with the audio of the prompt it stands for."""

from __future__ import annotations

import subprocess
import sys
import wave
from pathlib import Path

from callbot.speech.asterisk_prompts import asterisk_sounds, render_for_asterisk, sound_file
from callbot.speech.prompts import DEFAULT_PROMPTS_DIR, PromptLibrary
from callbot.speech.wav import read_wav_8k

ROOT = Path(__file__).resolve().parent.parent


def test_the_cli_renders_every_sound_in_asterisks_layout(tmp_path: Path):
    out = tmp_path / "sounds"
    env_config = tmp_path / "callbot.toml"
    env_config.write_text(f'[prompts]\ntts_cache_dir = "{tmp_path / "tts"}"\n', encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "callbot", "--config", str(env_config), "prompts", "render",
         "--asterisk", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    library = PromptLibrary()
    sounds = asterisk_sounds(library)
    assert f"wrote {len(sounds)} Asterisk sounds" in done.stdout
    for sound in ("callbot/handback_ticket", "callbot/offer_bot", "callbot/digit_7",
                  "digits/15", "digits/hundred", "queue-thereare"):  # fmt: skip
        path = out / "vi" / f"{sound}.wav"
        with wave.open(str(path), "rb") as wav:
            assert (wav.getframerate(), wav.getsampwidth(), wav.getnchannels()) == (8000, 2, 1)
            assert wav.getcomptype() == "NONE" and wav.getnframes() > 800  # > 0.1 s
    place = next(s for s in sounds if s.startswith("callbot/place_"))
    assert sound_file(out, place).exists()
    assert len(list(out.rglob("*.wav"))) == len(sounds)


def test_each_sound_is_the_audio_of_its_prompt(tmp_path: Path):
    library = PromptLibrary(DEFAULT_PROMPTS_DIR)
    written = render_for_asterisk(library, tmp_path)
    assert len(written) == len(asterisk_sounds(library))
    assert read_wav_8k(tmp_path / "vi" / "digits" / "5.wav") == library.audio("digit_5")
    assert read_wav_8k(tmp_path / "vi" / "digits" / "20.wav") == library.audio("number_20")
    assert read_wav_8k(tmp_path / "vi" / "queue-youarenext.wav") == library.audio("wait_next")


def test_a_studio_recording_overrides_the_rendered_prompt(tmp_path: Path):
    override = tmp_path / "studio"
    override.mkdir()
    with wave.open(str(override / "offer_bot.wav"), "wb") as wav:  # 16 kHz, as studios send
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(b"\x10\x00" * 16000)
    library = PromptLibrary(DEFAULT_PROMPTS_DIR, override_dir=override)
    render_for_asterisk(library, tmp_path / "out")
    with wave.open(str(tmp_path / "out" / "vi" / "callbot" / "offer_bot.wav"), "rb") as wav:
        assert wav.getframerate() == 8000 and wav.getnframes() == 8000  # resampled, 1 s
