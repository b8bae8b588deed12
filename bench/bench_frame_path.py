"""The per-call work on every 20 ms tick, without the network: what one call costs the
event loop while it is up. Prints microseconds per tick for each stage and in total.

    .venv/bin/python bench/bench_frame_path.py [--ticks 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import numpy as np

from callbot.call.endpointer import Endpointer
from callbot.call.rebuffer import Rebuffer
from callbot.call.recording import CallRecorder
from telephony.audio_format import FRAME_BYTES
from telephony.audiosocket_protocol import AudioSocketConnection, encode_audio, encode_uuid
from telephony.paced_writer import PacedWriter


def timed(label: str, ticks: int, step) -> float:
    start = time.perf_counter()
    for i in range(ticks):
        step(i)
    per_tick = (time.perf_counter() - start) / ticks * 1e6
    print(f"{label:<40} {per_tick:8.2f} µs/tick")
    return per_tick


async def main(ticks: int) -> None:
    rng = np.random.default_rng(1)
    speech = (rng.standard_normal(FRAME_BYTES // 2) * 3000).astype("<i2").tobytes()
    silence = bytes(FRAME_BYTES)
    sent = bytearray()

    def send(data: bytes) -> None:
        sent.extend(data)
        if len(sent) > 1 << 20:
            sent.clear()

    writer = PacedWriter(send)
    writer.play(speech * ticks)
    total = timed("paced writer: send one bot frame", ticks, lambda i: writer.tick())

    with tempfile.TemporaryDirectory() as tmp:
        recorder = CallRecorder(Path(tmp) / "call.wav")

        def record(i: int) -> None:
            recorder.caller_audio(speech)
            recorder.bot_frame(speech)

        total += timed("recording: both channels", ticks, record)
        recorder.close()

    connection = AudioSocketConnection()
    connection.receive_data(encode_uuid("5d6a1b8e-9f3c-4c2a-8e1b-2f4d6a8c0e1f"))
    wire = encode_audio(speech)
    rebuffer = Rebuffer()
    total += timed(
        "parse one caller frame + re-cut",
        ticks,
        lambda i: [rebuffer.push(e.pcm) for e in connection.receive_data(wire)],
    )
    endpointer = Endpointer()
    endpointer.listen(0.0)

    def vad(i: int) -> None:
        now = i * 0.02
        if not endpointer.listening:  # an utterance ended: listen for the next one
            endpointer.listen(now)
        endpointer.push_frame(speech if i % 100 < 40 else silence, now)
        endpointer.tick(now)

    total += timed("VAD + endpointer on a caller frame", ticks, vad)
    print(
        f"{'total per call per tick':<40} {total:8.2f} µs  "
        f"({total * 50 / 1000:.2f} ms of loop time per call-second)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ticks", type=int, default=20000)
    asyncio.run(main(parser.parse_args().ticks))
