"""The menu a text channel may show as buttons: the keys the phone menu offers, each with a
short label. A button sends its key, which the dialog reads as a keypad answer
(``Pressed``), so a tap means exactly what pressing that key on a phone means."""

from __future__ import annotations

from dataclasses import dataclass

from callbot.call.dialog import Dialog, Phase


@dataclass(frozen=True)
class Button:
    label: str
    value: str  # what the button sends as the user's message


_MENUS: dict[str, tuple[Button, ...]] = {
    "case_type": (
        Button("Lương thực, thực phẩm", "1"),
        Button("Chính sách hỗ trợ chưa nhận", "2"),
        Button("Người già, trẻ em, khuyết tật, bệnh nặng", "3"),
        Button("Việc khác", "4"),
    ),
    "subject": (
        Button("Bản thân", "1"),
        Button("Gia đình", "2"),
        Button("Hàng xóm", "3"),
        Button("Người khác", "4"),
    ),
}
_CONFIRM = (Button("Đúng", "1"), Button("Sai", "2"))
_OFFER = (Button("Có", "1"), Button("Không", "2"))
_WHICH_FIELD = (Button("Loại hỗ trợ", "1"), Button("Địa bàn", "2"), Button("Số điện thoại", "3"))


def buttons_for(dialog: Dialog) -> tuple[Button, ...]:
    """The buttons for what the dialog is asking now (none for an open question)."""
    if dialog.done:
        return ()
    state = dialog.state
    if state.phase is Phase.CONFIRM:
        return _CONFIRM
    if state.phase is Phase.WHICH_FIELD:
        return _WHICH_FIELD
    if state.offering:
        return _OFFER
    question = dialog.current_question
    if question is None:
        return ()
    return _MENUS.get(question.slot, ())
