"""Needs said in everyday words, which case_type_cues.py's table gains (``MORE_CUES``), and
"sữa" (milk) heard as "sửa" (repair) beside a baby (``milk_for_a_baby``).

"tiền người khuyết tật", "tiền già": an allowance named by who it is for is a support
policy, not the vulnerable case its status words name; "bị lừa chuyển khoản": fraud, the
menu's "other"; "sửa cho con mới sanh": the recogniser (or the keyboard) put the hook of
"sửa" on the milk a newborn needs.
"""

from __future__ import annotations

from callbot.nlu.text import fold, word_set

# The people an allowance is paid to, and the words that name the payment: "tiền người
# già", "trợ cấp khuyết tật", "chế độ bảo trợ xã hội". (Not "hỗ trợ" alone: "hỗ trợ người
# khuyết tật" may ask for help for that person.)
_STATUSES = (
    "người khuyết tật",
    "khuyết tật",
    "người tàn tật",
    "tàn tật",
    "người già",
    "già",
    "người cao tuổi",
    "cao tuổi",
    "neo đơn",
    "bảo trợ",
    "bảo trợ xã hội",
    "mồ côi",
    "hộ nghèo",
)
_PAYMENTS = ("tiền", "tiền trợ cấp", "trợ cấp", "tiền hỗ trợ", "chế độ", "lương")
# ("hỗ trợ hộ nghèo" is the poor households' scheme itself, whoever it is for.)
ALLOWANCES: tuple[tuple[str, float], ...] = (
    *((f"{pay} {status}", 3) for pay in _PAYMENTS for status in _STATUSES),
    ("hỗ trợ hộ nghèo", 3),
)

# Milk for a baby, said with the need ("hết sữa", "sữa bột"), where "sữa" alone is a hint.
# (Not "cần sữa", "xin sữa": typed plain, "can sua" is as often "cần sửa", to repair.)
MILK: tuple[tuple[str, float], ...] = (
    ("hết sữa", 2),
    ("sữa bột", 2),
    ("sữa cho em bé", 2),
    ("sữa cho bé", 2),
    ("hộp sữa", 2),
)

# Someone left alone, said the Southern way: "mình ên" is "một mình" ("thằng nhỏ ở nhà mình
# ên từ sáng", "bà cụ sống mình ên"), a person no one looks after.
ALONE: tuple[tuple[str, float], ...] = (
    ("mình ên", 2),
    ("ở nhà mình ên", 2),
    ("sống mình ên", 2),
    ("ở mình ên", 2),
)

# Fraud and theft in the words callers use for them.
FRAUD: tuple[tuple[str, float], ...] = (
    ("bị lừa", 2),
    ("lừa tiền", 2),
    ("lừa gạt", 2),
    ("lường gạt", 2),
    ("bị gạt", 2),
    ("gạt tiền", 2),
    ("giả danh", 2),
    ("bị cướp", 2),
    ("cướp giật", 2),
    ("bị giật", 2),
    ("giật đồ", 2),
    ("móc túi", 2),
    ("mất cắp", 2),
    ("chuyển khoản", 1),
)

# Words that ask for a handout ("xin ít gạo", "chỗ nào phát gạo", "ở đâu có phát mì"): the
# need in their clause is the request; a hardship told in another clause ("chồng tôi đang
# nằm viện") is why the caller asks. (Not "cần": "mẹ tôi cần người chăm" tells a hardship.)
ASKING_FOR = ("xin", "phát", "chỗ nào", "nơi nào", "ở đâu")

# Words that only say how to ask or apply ("thủ tục", "giấy tờ", "hỏi"): beside a benefit
# named in full ("thủ tục xin trợ cấp hộ nghèo cần giấy tờ gì"), the benefit is the need.
PAPERWORK: tuple[tuple[str, float], ...] = (
    ("thủ tục", 2),
    ("giấy tờ", 2),
    ("hỏi", 1),
    ("thông tin", 1),
)

# "sửa" (or "sủa") is "sữa" beside a baby ("con mới sanh", "em bé") with nothing to repair
# after it ("cần sửa cho con"), or beside a word only milk goes with ("mua sửa", "sửa bột").
_BABY = ("mới sanh", "mới sinh", "mới đẻ", "sơ sinh", "em bé", "cho bé", "con nhỏ", "cháu nhỏ",
         "đứa nhỏ", "trẻ nhỏ", "con nít", "bú")  # fmt: skip
_MISHEARD = frozenset({"sửa", "sủa"})
_ONLY_MILK_BEFORE = word_set("mua uống bú hộp lon bình gói")
_ONLY_MILK_AFTER = word_set("bột tươi đặc")
# With a baby in the answer, what may follow the milk (nothing to repair among them).
_NO_OBJECT = word_set("cho rồi nữa hết uống ạ á à chị anh em với để mà luôn đi thôi nha")


def milk_for_a_baby(norm: str) -> str:
    """``norm`` (normalised, with tone marks) with "sửa" read as "sữa" where it is milk."""
    toks = norm.split()
    if not _MISHEARD.intersection(toks) or fold(norm) == norm:
        return norm  # typed plain, "sua" already folds onto "sữa"
    baby = any(f" {b} " in f" {norm} " for b in _BABY)
    out = []
    for i, tok in enumerate(toks):
        before = toks[i - 1] if i > 0 else ""
        after = toks[i + 1] if i + 1 < len(toks) else ""
        milk = before in _ONLY_MILK_BEFORE or after in _ONLY_MILK_AFTER
        if tok in _MISHEARD and (milk or (baby and after in _NO_OBJECT)):
            tok = "sữa"
        out.append(tok)
    return " ".join(out)


# "lừa" (cheat) with money in the same answer is a fraud, however the trick is told ("giả
# công an lừa chuyển mất sáu triệu"): "bị lừa" alone is a cue, the verb further off is not.
# With its marks only: typed plain, "lua" is also "lúa" (paddy rice).
_CHEAT = frozenset({"lừa", "gạt"})
_MONEY = word_set("tiền triệu nghìn ngàn chục trăm chuyển khoản mất")


def cheated_of_money(norm: str) -> tuple[int, int] | None:
    """The span of the "lừa" in ``norm`` (normalised, with marks) told with money lost, or
    None."""
    toks = norm.split()
    if not _MONEY.intersection(toks):
        return None
    for i, tok in enumerate(toks):
        if tok in _CHEAT:
            return (i, i + 1)
    return None
