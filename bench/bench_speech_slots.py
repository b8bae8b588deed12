"""Slot accuracy on *speech*: free decoding + NLU against constrained recognition.

Answers come from ``bench/speech_answers/`` (``--answers``; each set written by a helper who
had not read the NLU rules, never used for tuning; ``answers_2026-12b.jsonl`` is the newer
set, written before the 2026-12-01 evening's rule changes and run once after them).
Each is spoken by espeak-ng, taken to the 8 kHz telephone band (sox: 300–3400 Hz),
optionally with white noise at a given SNR, then:

- free: Whisper decodes freely; the slot's extractor reads the text (as the dialog does,
  below 0.5 confidence = not understood);
- constrained: Whisper scores the question's candidate texts (``callbot/nlu/candidates.py``)
  and the best value is taken if it clears the question's calibrated thresholds
  (``CHOICES``, from ``bench/calibrate_speech_choices.py`` on other answers);
- combined: what the dialog does (``understand_heard``): agreement or the one that speaks,
  a disagreement is unclear. Free and constrained come from one decode job on one
  encoding (``decode_and_choose_pcm8k``, as in a call), timed as such. Its ablations:
  comb-nodoubt (no keypad doubt rule), comb-notwins (a telephone twin's pick trusted),
  comb-unbacked (a doubtful transcript's reading taken where the scored answers named none).

Phone numbers have no choices: free decoding only, scored as the whole number and as the
share of digits right (1 − edit distance / length).

Printed per slot and mode: accuracy (right value, or "nothing" for an answer labelled
unclear), wrong-slot rate (a value given that is not the right one), p50/p95 latency and
CPU-ms per answer on this machine. ``--json FILE`` keeps the figures.

    .venv/bin/python bench/bench_speech_slots.py --voices vi --noise none --limit 0
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_heldout_text import expected_of  # noqa: E402
from rapidfuzz.distance import Levenshtein  # noqa: E402

from callbot.call.hearing import understand_heard  # noqa: E402
from callbot.call.script import Heard, Understood  # noqa: E402
from callbot.nlu.candidates import BY_SLOT, CHOICES  # noqa: E402
from callbot.nlu.corpus import EXTRACTORS, is_correct  # noqa: E402
from callbot.nlu.extraction import ACCEPT_CONFIDENCE  # noqa: E402
from callbot.speech.asr.factory import AsrSettings, build_engine  # noqa: E402

ANSWERS = ROOT / "bench" / "speech_answers" / "answers_2026-12.jsonl"
SLOTS = (*BY_SLOT, "phone")


def speak(text: str, voice: str, rate: int, work: Path) -> bytes:
    raw, out = work / "raw.wav", work / "out.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(raw), text], check=True)
    # -R: sox dithers with a random seed per run unless told to repeat it, which moved
    # the scores of the same answer by up to 0.8 nats between runs.
    band = ["sox", "-R", "-V1", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(out)]
    subprocess.run([*band, "sinc", "300-3400"], check=True)
    with wave.open(str(out)) as w:
        speech = w.readframes(w.getnframes())
    # What the recogniser gets in a call: the endpointer's 0.3 s pre-roll before the words
    # and the 0.7 s of silence after them that ends the turn.
    return bytes(2 * 2400) + speech + bytes(2 * 5600)


def add_noise(pcm: bytes, snr_db: float, rng: np.random.Generator) -> bytes:
    x = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    power = float(np.mean(x**2)) or 1.0
    noise = rng.normal(0, np.sqrt(power / 10 ** (snr_db / 10)), x.size)
    return np.clip(x + noise, -32768, 32767).astype(np.int16).tobytes()


def label(record: dict) -> str | None:
    return expected_of(record)  # one reading of the labels for typed and spoken answers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--voices", default="vi,vi-vn-x-south")
    parser.add_argument("--rates", default="175,140", help="espeak-ng words per minute")
    parser.add_argument("--noise", default="none,10", help="'none' and/or SNR in dB")
    parser.add_argument("--limit", type=int, default=0, help="answers per slot (0: all)")
    parser.add_argument("--slots", default="", help="only these slots: yes_no,subject,…")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--answers", type=Path, default=ANSWERS, help="a JSON Lines answer set")
    args = parser.parse_args()
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed (make setup installs it)")

    records = [json.loads(line) for line in args.answers.open(encoding="utf-8") if line.strip()]
    wanted = set(args.slots.split(",")) if args.slots else set(SLOTS)
    records = [r for r in records if r["slot"] in SLOTS and r["slot"] in wanted]
    if args.limit:
        per_slot: dict[str, list[dict]] = defaultdict(list)
        for r in records:
            if len(per_slot[r["slot"]]) < args.limit:
                per_slot[r["slot"]].append(r)
        records = [r for rs in per_slot.values() for r in rs]
    engine = build_engine(AsrSettings(engine="whisper", threads=1, workers=1))
    rng = np.random.default_rng(1022)
    conditions = [
        (voice, int(rate), noise)
        for voice in args.voices.split(",")
        for rate in args.rates.split(",")
        for noise in args.noise.split(",")
    ]
    # results[(condition, slot, mode)] = list of (correct, wrong)
    results: dict[tuple, list[tuple[bool, bool]]] = defaultdict(list)
    timings: dict[str, list[tuple[float, float]]] = defaultdict(list)
    done = 0
    total = len(records) * len(conditions)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for condition in conditions:
            voice, rate, noise = condition
            for r in records:
                pcm = speak(r["text"], voice, rate, work)
                if noise != "none":
                    pcm = add_noise(pcm, float(noise), rng)
                slot, want = r["slot"], label(r)
                wall, cpu = time.perf_counter(), time.process_time()
                if slot == "phone":
                    decoded = engine.decode_pcm8k(pcm)
                    timings["free"].append((time.perf_counter() - wall, time.process_time() - cpu))
                    found = EXTRACTORS[slot](decoded.text) if decoded.text else None
                    got = found.value if found and found.confidence >= ACCEPT_CONFIDENCE else None
                    digits = found.value if found else ""
                    share = Levenshtein.normalized_similarity(digits, want or "")
                    results[(condition, slot, "free")].append(
                        (got == want, got is not None and got != want)
                    )
                    results[(condition, "phone_digits", "free")].append((share, 0.0))
                    done += 1
                    continue
                if slot not in CHOICES:  # not scored in calls: free decoding only
                    decoded = engine.decode_pcm8k(pcm)
                    choice = None
                else:
                    decoded, choice = engine.decode_and_choose_pcm8k(pcm, CHOICES[slot])
                timings["free+constrained"].append(
                    (time.perf_counter() - wall, time.process_time() - cpu)
                )

                def understand(text: str, slot: str = slot) -> Understood | None:
                    found = EXTRACTORS[slot](text)
                    if found is None or found.confidence < ACCEPT_CONFIDENCE:
                        return None
                    return Understood(found.value, found.confidence, text)

                free_u = understand(decoded.text) if decoded.text else None
                free = free_u.value if free_u else None
                picked = choice.value if choice else None
                # Every question here can be answered on the keypad too, as in a call.
                both = understand_heard(
                    understand,
                    Heard(decoded.text, decoded.confidence, choice),
                    CHOICES.get(slot),
                    has_keypad=True,
                )
                combined = both.value if both else None
                # The same without the keypad questions' doubt rule, to show what it does.
                open_q = understand_heard(
                    understand, Heard(decoded.text, decoded.confidence, choice), CHOICES.get(slot)
                )
                # And without the rule that a pick won by a telephone twin ("phải"/"sai")
                # needs the free text to agree.
                trusting = dataclasses.replace(choice, needs_agreement=False) if choice else None
                no_twins = understand_heard(
                    understand,
                    Heard(decoded.text, decoded.confidence, trusting),
                    CHOICES.get(slot),
                    has_keypad=True,
                )
                # And without the rule that a doubtful transcript's reading needs the scored
                # answers' backing when they named none (a pick of None passed as no scoring).
                unbacked = understand_heard(
                    understand,
                    Heard(decoded.text, decoded.confidence, choice if picked else None),
                    CHOICES.get(slot),
                    has_keypad=True,
                )
                modes = (
                    ("free", free),
                    ("constrained", picked),
                    ("combined", combined),
                    ("comb-nodoubt", open_q.value if open_q else None),
                    ("comb-notwins", no_twins.value if no_twins else None),
                    ("comb-unbacked", unbacked.value if unbacked else None),
                )
                for mode, got in modes:
                    results[(condition, slot, mode)].append(
                        (right := is_correct(slot, got, want), got is not None and not right)
                    )
                done += 1
                if done % 25 == 0:
                    print(f"  {done}/{total} answers", file=sys.stderr, flush=True)

    print(f"{'condition':28} {'slot':10} {'mode':12} {'n':>4} {'acc %':>6} {'wrong %':>8}")
    figures = []
    for (condition, slot, mode), outcomes in sorted(results.items()):
        n = len(outcomes)
        acc = 100 * sum(c for c, _ in outcomes) / n
        wrong = 100 * sum(w for _, w in outcomes) / n
        cond = f"{condition[0]} {condition[1]}wpm {condition[2]}"
        print(f"{cond:28} {slot:10} {mode:12} {n:>4} {acc:>6.1f} {wrong:>8.1f}")
        figures.append({"condition": cond, "slot": slot, "mode": mode, "n": n,
                        "accuracy": acc, "wrong": wrong})  # fmt: skip
    for mode in sorted(timings):
        walls = sorted(w for w, _ in timings[mode])
        cpus = [c for _, c in timings[mode]]
        p95 = walls[int(0.95 * (len(walls) - 1))]
        print(
            f"{mode:12} latency p50 {1000 * statistics.median(walls):.0f} ms, p95 "
            f"{1000 * p95:.0f} ms, CPU {1000 * statistics.mean(cpus):.0f} ms per answer"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
