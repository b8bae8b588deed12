"""Where the CPU of one spoken answer goes: log-mel features, encoder, free decoding, scoring.

The capacity issue asks for the server's CPU per decode against a floor; this benchmark
splits one answer's cost into its stages, per closed question (the number of candidate
texts each question scores), so that the next saving is chosen from figures. Each answer
is spoken by espeak-ng, taken to the 8 kHz band and padded as a call delivers it
(``bench_speech_slots.speak``), then cut to its voiced span as the engine does.

It reaches into the engine's stages (``_features``, ``_encode``, ``_decode_window``,
``_forced_logprobs``) because the public calls run them together; CPU is the process's
(every native thread), with one decode thread as the server runs it.

    .venv/bin/python bench/bench_decode_cost.py --repeat 5
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_speech_slots import speak  # noqa: E402

from callbot.nlu.candidates import BY_SLOT, CHOICES, surface_forms  # noqa: E402
from callbot.speech.asr.factory import AsrSettings, build_engine  # noqa: E402
from callbot.speech.asr.upsample import upsample_8k_to_16k  # noqa: E402
from callbot.speech.asr.voiced import voiced_span  # noqa: E402
from callbot.speech.asr.whisper import MAX_WINDOW_FRAMES, pcm16_to_float  # noqa: E402

# Typical answers to the closed questions, short to long (texts of the project's corpus).
ANSWERS = {
    "yes_no": ["vâng", "dạ đúng rồi ạ", "không, sai rồi"],
    "subject": ["cho tôi", "cho mẹ tôi ạ"],
    "household": ["bốn người", "nhà tôi có ba người"],
    "case_type": ["nhà tôi hết gạo rồi, cần hỗ trợ lương thực"],
    "place": ["tôi ở phường bến thành quận một", "quận tám"],
}


def process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # microseconds; os.times() ticks 10 ms
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each stage per answer")
    parser.add_argument("--voice", default="vi")
    args = parser.parse_args()
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed (make setup installs it)")
    engine = build_engine(AsrSettings(engine="whisper", threads=1, workers=1))
    print(f"Whisper base int8, one decode thread; {args.repeat} runs per stage; "
          f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    print(f"{'slot':10} {'scored':>6} {'texts':>5} {'audio s':>7} {'tokens':>6} "
          f"{'features':>8} {'encode':>6} {'free':>6} {'scoring':>7}  (ms CPU)")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for slot, texts in ANSWERS.items():
            candidates = tuple(surface_forms(BY_SLOT[slot])[0])
            engine._prior(candidates)  # cached once per question in a running server
            for text in texts:
                pcm = speak(text, args.voice, 175, Path(tmp))
                audio = upsample_8k_to_16k(pcm16_to_float(voiced_span(pcm)))
                cost: dict[str, list[float]] = {k: [] for k in ("feat", "enc", "free", "score")}
                heard = ""
                for _ in range(args.repeat):
                    start = process_cpu()
                    features = engine._features(audio)[:, :MAX_WINDOW_FRAMES]
                    cost["feat"].append(process_cpu() - start)
                    start = process_cpu()
                    encoded = np.asarray(engine._encode(features, to_cpu=True))
                    cost["enc"].append(process_cpu() - start)
                    start = process_cpu()
                    heard = engine._decode_window(features, encoded)[0]
                    cost["free"].append(process_cpu() - start)
                    start = process_cpu()
                    engine._forced_logprobs(features, candidates, encoded)
                    cost["score"].append(process_cpu() - start)
                ms = {k: 1000 * statistics.median(v) for k, v in cost.items()}
                tokens = len(engine._tokenizer.encode(heard)) if heard else 0
                scored = "yes" if slot in CHOICES else "no"
                print(f"{slot:10} {scored:>6} {len(candidates):>5} {audio.size / 16000:>7.2f} "
                      f"{tokens:>6} {ms['feat']:>8.1f} {ms['enc']:>6.0f} {ms['free']:>6.0f} "
                      f"{ms['score']:>7.0f}", flush=True)  # fmt: skip
    asyncio.run(engine.close())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
