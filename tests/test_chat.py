"""`callbot chat`: the phone conversation as text, filing a real ticket in a real store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from callbot.tickets.model import Channel, Speaker

LINES = """nhà tôi hết gạo rồi
1
phường bến thành
số 12 đường lê lợi
nhà có bốn người
tôi tên là trần thị mai
không chín một hai ba bốn năm sáu bảy tám
cả nhà mất việc
sai địa chỉ
số 14 đường lê lợi
đúng rồi
"""


def test_chat_files_a_complete_ticket_with_a_correction(tmp_path: Path):
    script = tmp_path / "lines.txt"
    script.write_text(LINES, encoding="utf-8")
    db = tmp_path / "chat.db"
    done = subprocess.run(
        [sys.executable, "-m", "callbot", "chat", "--script", str(script)],
        env={"CALLBOT_STORE_URL": f"sqlite:///{db}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "Xin nhắc lại thông tin" in done.stdout
    assert "complete" in done.stdout.splitlines()[-1]

    import asyncio

    from callbot.tickets.store.factory import open_store

    async def read():
        async with open_store(f"sqlite:///{db}") as store:
            (ticket,) = await store.list_tickets()
            return ticket, await store.list_turns(ticket.call_id)

    ticket, turns = asyncio.run(read())
    assert ticket.channel == Channel.CHAT and ticket.complete
    assert ticket.slots["case_type"].value == "essentials"
    assert ticket.slots["subject"].value == "self"
    assert ticket.slots["place"].value == "Phường Bến Thành"
    assert ticket.slots["callback_number"].value == "0912345678"
    assert "14" in ticket.slots["address"].value  # the corrected value won
    caller_turns = [t.text for t in turns if t.speaker == Speaker.CALLER]
    assert caller_turns[0] == "nhà tôi hết gạo rồi" and len(caller_turns) == 11
