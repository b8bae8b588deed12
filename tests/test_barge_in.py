"""Barge-in over a real socket: the caller talks over a question and the bot stops."""

from __future__ import annotations

import asyncio
import time
import uuid

import numpy as np

from callbot.simulation.caller import CallerVoice
from telephony.audiosocket_client import AudioSocketClient
from telephony.frame_clock import FrameClock

try:
    from callbot_harness import callbot_settings, running_callbot
except ImportError:
    from tests.callbot_harness import callbot_settings, running_callbot


async def test_speaking_over_the_question_stops_the_prompt(whisper_engine, tmp_path):
    async with running_callbot(callbot_settings(tmp_path), whisper_engine) as bot:
        prompts = bot.services.prompts
        greeting_s = len(prompts.audio("greeting")) / 16000
        question_s = len(prompts.audio("ask_case_type")) / 16000
        clock = FrameClock()
        client = AudioSocketClient(clock)
        await client.connect("127.0.0.1", bot.port, str(uuid.uuid4()))
        # Let the greeting (not interruptible) play, then 3 s of the question.
        await asyncio.sleep(greeting_s + 3.0)
        talk_started = time.monotonic()
        await client.say(CallerVoice().clip("luong_thuc"))
        # The bot must have gone quiet long before the question's end.
        utterance = client.utterances[-1]
        assert utterance.ended_at is not None
        assert utterance.ended_at - talk_started < 2.0
        assert time.monotonic() - talk_started < question_s
        heard = np.frombuffer(bytes(utterance.audio), dtype="<i2")
        assert heard.size / 8000 < greeting_s + question_s - 2  # the question was cut short
        assert bot.services.metrics.barge_ins == 1
        await client.hang_up()
        await clock.close()
