"""Generate tests/data/nlu_corpus.jsonl, the labelled caller utterances for the NLU tests.

Run: .venv/bin/python tests/data/make_corpus.py   (deterministic: fixed seed)

Each record: {"text", "slot", "expected", "noise": "clean"|"asr"}. Labels come from the
generator's own parameters (the number it chose, the unit it named), never from the
extractors; this file speaks numbers with its own small code (including the colloquial forms
"hai mốt", "bốn lăm" that a reader would use) rather than calling callbot.nlu.numbers.
ASR noise imitates what recognisers do to Vietnamese: dropped or wrong tone marks,
phường→phương, bến→bên, hesitations, dropped particles, Whisper numerals and punctuation.
Hand-written utterances (case type, subject, names, yes/no, …) are listed below in Southern
and Northern wording and were reviewed one by one.
"""

from __future__ import annotations

import json
import random
import sys
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from callbot.nlu.admin_units import (  # data only: unit names, not matching
    district_2021_to_wards_2025,
    districts_2021,
    legacy_ward_to_2025,
    wards_2025,
)

OUT = Path(__file__).with_name("nlu_corpus.jsonl")
rng = random.Random(1022)

DIGITS = ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"]


def say_digit(d: int, south: bool) -> str:
    if d == 4 and south and rng.random() < 0.4:
        return "tư"
    if d == 7 and not south and rng.random() < 0.3:
        return "bẩy"
    return DIGITS[d]


def say_pair(p: str, south: bool) -> str:
    """Two digits as callers group them: "không ba", "mười lăm", "hai mốt", "bốn mươi lăm"."""
    t, u = int(p[0]), int(p[1])
    if t == 0:
        return f"không {say_digit(u, south)}"
    head = "mười" if t == 1 else f"{DIGITS[t]} mươi"
    if t >= 2 and u and rng.random() < 0.35:
        head = DIGITS[t]  # colloquial: "bốn lăm", "hai mốt" (only with a unit)
    if u == 0:
        return head
    unit = {1: "mốt" if t >= 2 else "một", 4: "tư" if t >= 2 else "bốn", 5: "lăm"}.get(u, DIGITS[u])
    return f"{head} {unit}"


def say_triple(p: str, south: bool) -> str:
    """Three digits: "ba trăm bốn mươi lăm", "ba trăm linh năm"; a leading 0 as digits."""
    h, rest = int(p[0]), p[1:]
    if h == 0:
        return " ".join(say_digit(int(c), south) for c in p)
    words = f"{DIGITS[h]} trăm"
    if rest == "00":
        return words
    if rest[0] == "0":
        return f"{words} {'lẻ' if south and rng.random() < 0.5 else 'linh'} {DIGITS[int(rest[1])]}"
    t, u = int(rest[0]), int(rest[1])
    tens = "mười" if t == 1 else f"{DIGITS[t]} mươi"
    if u == 0:
        return f"{words} {tens}"
    unit = {1: "mốt" if t >= 2 else "một", 4: "tư" if t >= 2 else "bốn", 5: "lăm"}.get(u, DIGITS[u])
    return f"{words} {tens} {unit}"


def say_phone(number: str, style: str, south: bool) -> str:
    if style == "digits":
        return " ".join(say_digit(int(c), south) for c in number)
    if style == "4-3-3":
        head = " ".join(say_digit(int(c), south) for c in number[:4])
        groups = [number[i : i + 3] for i in range(4, len(number), 3)]
        if len(number) == 11:  # landline 028 3829 1234: digits then pairs
            return (
                head
                + " "
                + " ".join(say_pair(number[i : i + 2], south) for i in (4, 6, 8))
                + (" " + say_digit(int(number[10]), south))
            )
        return head + " " + " ".join(say_triple(g, south) for g in groups)
    # pairs: 09 03 45 67 89
    return " ".join(say_pair(number[i : i + 2], south) for i in range(0, len(number) - 1, 2)) + (
        f" {say_digit(int(number[-1]), south)}" if len(number) % 2 else ""
    )


MOBILE_PREFIXES = [
    "090",
    "091",
    "093",
    "094",
    "096",
    "097",
    "098",
    "032",
    "033",
    "035",
    "038",
    "070",
    "076",
    "077",
    "079",
    "081",
    "083",
    "085",
    "056",
    "058",
    "086",
    "088",
    "089",
    "039",
    "036",
]
PHONE_FRAMES = [
    ("{}", True),
    ("số của tôi là {}", True),
    ("số điện thoại là {}", True),
    ("dạ {} ạ", True),
    ("em đọc nha {}", True),
    ("số tôi {} nhé", False),
    ("vâng số điện thoại của tôi là {}", False),
    ("số điện thoại liên lạc {}", False),
    ("dạ số nè {}", True),
    ("gọi lại số {} giùm tôi", True),
]


def fold_word(w: str) -> str:
    d = unicodedata.normalize("NFD", w.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(c for c in d if not unicodedata.combining(c)))


RECOGNISER_SWAPS = {
    "phường": "phương",
    "bến": "bên",
    "quận": "quần",
    "huyện": "huyền",
    "hẻm": "hẽm",
    "đường": "đương",
    "bảy": "bẩy",
    "thạnh": "thạch",
    "xã": "sã",
    "số": "sổ",
    "đúng": "dúng",
    "sống": "sóng",
}


def asr_noise(text: str, *, keep: frozenset[str] = frozenset()) -> str:
    """Recogniser-like damage that keeps the meaning: tone marks, swaps, hesitations."""
    words = text.split()
    out: list[str] = []
    for w in words:
        r = rng.random()
        if w in keep:
            out.append(w)
        elif w in RECOGNISER_SWAPS and r < 0.6:
            out.append(RECOGNISER_SWAPS[w])
        elif r < 0.3:
            out.append(fold_word(w))
        elif w in ("ạ", "là", "thì", "nha", "nhé", "dạ") and r < 0.6:
            continue  # dropped particle
        else:
            out.append(w)
        if rng.random() < 0.05:
            out.append(rng.choice(["ờ", "à", "ừm"]))
    return " ".join(out) if out else text


records: list[dict] = []


def add(text: str, slot: str, expected: str | None, noise: str = "clean") -> None:
    records.append({"text": text, "slot": slot, "expected": expected, "noise": noise})


# ---- phone numbers ---------------------------------------------------------------------
for k in range(60):
    if k % 10 == 9:
        number = "028" + "".join(rng.choice("0123456789") for _ in range(8))
        number = number[:3] + rng.choice("3456789") + number[4:]
    else:
        number = rng.choice(MOBILE_PREFIXES) + "".join(rng.choice("0123456789") for _ in range(7))
    south = k % 2 == 0
    style = ["digits", "4-3-3", "pairs"][k % 3]
    frame, _ = PHONE_FRAMES[k % len(PHONE_FRAMES)]
    spoken = say_phone(number, style, south)
    add(frame.format(spoken), "phone", number)
    if k % 2 == 0:
        add(asr_noise(frame.format(spoken)), "phone", number, "asr")
    else:
        # Whisper writes the digits: grouped, dotted, or comma-separated digit by digit.
        form = k % 3
        if form == 0:
            w = f"{number[:3]} {number[3:6]} {number[6:]}"
        elif form == 1:
            w = f"{number[:4]}.{number[4:7]}.{number[7:]}"
        else:
            w = ", ".join(number)
        add(f"{frame.format(w).capitalize()}.", "phone", number, "asr")
# Invalid numbers: too short, old 11-digit mobile prefix, wrong prefix.
for text, noise in [
    ("không chín không ba bốn năm sáu bảy", "clean"),
    ("số tôi là không một sáu tám ba bốn năm sáu bảy tám chín", "clean"),
    ("dạ một hai ba bốn năm sáu bảy tám chín mười", "clean"),
    ("0903 456", "asr"),
    ("số điện thoại là không chín", "clean"),
    ("tôi không nhớ số", "clean"),
    ("khong chin tam", "asr"),
    ("Số của tôi là 1900 1234.", "asr"),
]:
    add(text, "phone", None, noise)
# Hand-written mixed forms.
for text, number, noise in [
    ("không chín không, ba trăm bốn mươi lăm, sáu bảy tám chín", "0903456789", "clean"),
    ("không chín không ba trăm bốn mươi lăm sáu bảy tám chín", "0903456789", "clean"),
    ("0, 9, 0, 3, 4, 5, 6, 7, 8, 9", "0903456789", "asr"),
    ("Không chín không 345 6789.", "0903456789", "asr"),
    ("cộng tám tư chín không ba bốn năm sáu bảy tám chín", "0903456789", "clean"),
    ("+84 903 456 789", "0903456789", "asr"),
    ("không, số tôi là không chín tám bảy sáu năm bốn ba hai một", "0987654321", "clean"),
    ("số máy bàn không hai tám ba tám hai chín một hai ba bốn", "02838291234", "clean"),
    ("không chín một ờ hai ba bốn ờ năm sáu bảy tám", "0912345678", "asr"),
    ("khong chin mot hai ba bon nam sau bay tam", "0912345678", "asr"),
    ("không ba hai, bốn lăm, sáu bảy, tám chín, một", "0324567891", "clean"),
    ("không tám tư, một trăm hai mươi ba, bốn trăm năm mươi sáu, một", "0841234561", "clean"),
    ("không chín tám, bảy trăm linh năm, ba trăm lẻ một, hai", "0987053012", "clean"),
]:
    add(text, "phone", number, noise)

# ---- places --------------------------------------------------------------------------------
PLACE_FRAMES = [
    "{}",
    "tôi ở {}",
    "nhà ở {}",
    "dạ {} ạ",
    "{} thành phố hồ chí minh",
    "nhà tôi ở {} nha",
    "bà cụ ở {}",
    "ở {} đó",
]
for k, unit in enumerate(districts_2021()):
    frame = PLACE_FRAMES[k % len(PLACE_FRAMES)]
    typed = f"{unit.unit_type.lower()} {unit.short.lower()}"
    if unit.short.isdigit():
        n = int(unit.short)
        words = {
            1: "một",
            3: "ba",
            4: "bốn",
            5: "năm",
            6: "sáu",
            7: "bảy",
            8: "tám",
            10: "mười",
            11: "mười một",
            12: "mười hai",
        }[n]
        add(frame.format(f"quận {words}"), "place", unit.name)
        add(frame.format(f"quận {n}"), "place", unit.name)
        add(
            asr_noise(frame.format(f"quận {words}"), keep=frozenset({words})),
            "place",
            unit.name,
            "asr",
        )
        add(f"{frame.format(f'Quận {n}').capitalize()}.", "place", unit.name, "asr")
    else:
        add(frame.format(typed), "place", unit.name)
        # Bare name: a district that shares its name with a 2025 ward is read as the district.
        add(f"dạ ở {unit.short.lower()}", "place", unit.name)
        add(asr_noise(frame.format(typed)), "place", unit.name, "asr")
        add(asr_noise(f"tôi ở {unit.short.lower()}"), "place", unit.name, "asr")
for text, expected, noise in [
    ("quận nhất", "Quận 1", "clean"),
    ("quận nhứt", "Quận 1", "clean"),
    ("q1", "Quận 1", "asr"),
    ("Q.3", "Quận 3", "asr"),
    ("quận tư", "Quận 4", "clean"),
    ("quận 2", "Thành phố Thủ Đức", "clean"),
    ("tôi ở quận hai", "Thành phố Thủ Đức", "clean"),
    ("nhà ở quận chín", "Thành phố Thủ Đức", "clean"),
    ("Quận 9.", "Thành phố Thủ Đức", "asr"),
    ("quận thủ đức", "Thành phố Thủ Đức", "clean"),
    ("tp thủ đức", "Thành phố Thủ Đức", "asr"),
    ("thanh pho thu duc", "Thành phố Thủ Đức", "asr"),
    ("quần mười hai", "Quận 12", "asr"),
    ("quan muoi mot", "Quận 11", "asr"),
    ("quận gò vất", "Quận Gò Vấp", "asr"),
    ("quận bình thạch", "Quận Bình Thạnh", "asr"),
    ("phường gò vấp", "Phường Gò Vấp", "clean"),
    ("xã củ chi", "Xã Củ Chi", "clean"),
    ("huyện củ chi", "Huyện Củ Chi", "clean"),
    ("phường 12 quận gò vấp", "Phường An Hội Tây", "clean"),
    ("phường sài gòn", "Phường Sài Gòn", "clean"),
    ("đặc khu côn đảo", "Đặc khu Côn Đảo", "clean"),
    ("xã thạnh an huyện cần giờ", "Xã Thạnh An", "clean"),
    ("tôi ở sài gòn", None, "clean"),
    ("tôi không biết phường nào", None, "clean"),
]:
    add(text, "place", expected, noise)
# 2025 wards, typed and with their old district.
district_of_ward = {}
for d, ws in district_2021_to_wards_2025().items():
    for w in ws:
        district_of_ward.setdefault(w, d)
sample = rng.sample(list(wards_2025()), 45)
for k, unit in enumerate(sample):
    typed = f"{unit.unit_type.lower()} {unit.short.lower()}"
    frame = PLACE_FRAMES[k % len(PLACE_FRAMES)]
    if k % 3 == 0 and unit.name in district_of_ward:
        d = district_of_ward[unit.name]
        typed = f"{typed} {d.lower()}"
    add(frame.format(typed), "place", unit.name)
    noisy = asr_noise(frame.format(typed))
    add(noisy, "place", unit.name, "asr")
# Legacy numbered wards resolve through the converter; spot-checked by hand.
assert legacy_ward_to_2025()[("quangovap", "phuong12")] == ("Phường An Hội Tây",)

# ---- case type ---------------------------------------------------------------------------------
CASE_UTTERANCES = {
    "essentials": [
        "nhà tôi hết gạo rồi",
        "không có gì ăn hết",
        "xin hỗ trợ thực phẩm",
        "cả nhà đang đói không có đồ ăn",
        "hết sạch lương thực rồi anh ơi",
        "cần gạo với mì gói",
        "nhà em mấy ngày nay nhịn đói",
        "xin ít nhu yếu phẩm",
        "không có tiền mua đồ ăn cho con",
        "cần túi an sinh",
        "nhà bên cạnh hết gạo",
        "mẹ con tôi thiếu ăn",
        "cho xin ít rau với trứng",
        "hết đồ ăn từ hôm qua",
        "gia đình tôi cần lương thực",
    ],
    "support_policy": [
        "tôi chưa nhận được tiền hỗ trợ",
        "gói hỗ trợ của phường chưa phát",
        "xin hỏi về trợ cấp thất nghiệp",
        "tôi là lao động tự do mà chưa được hỗ trợ",
        "tiền hỗ trợ theo nghị quyết sáu tám chưa nhận",
        "không có tên trong danh sách hỗ trợ",
        "tôi đủ điều kiện mà chưa được chi trả",
        "hỏi về chính sách hỗ trợ người mất việc",
        "trợ cấp cho hộ nghèo tháng này chưa có",
        "hồ sơ xin hỗ trợ nộp rồi mà chưa thấy",
        "bị bỏ sót không được nhận tiền",
        "chế độ cho người có công chưa nhận",
    ],
    "vulnerable": [
        "bà cụ sống một mình",
        "có trẻ mồ côi không ai nuôi",
        "người khuyết tật cần giúp",
        "ông ấy bệnh nặng nằm một chỗ",
        "có cụ già neo đơn",
        "mấy đứa nhỏ lang thang ngoài đường",
        "chồng tôi bị tai biến liệt giường",
        "mẹ tôi chạy thận",
        "người vô gia cư ngủ ngoài đường",
        "em bé mồ côi cha mẹ",
        "ông cụ bị mù sống một mình",
        "bà ngoại bị ung thư",
        "con tôi bị bại liệt",
    ],
    "other": [
        "tôi muốn hỏi về giấy tờ nhà đất",
        "cho hỏi thủ tục làm căn cước",
        "khu tôi bị mất điện cả ngày nay",
        "tôi muốn phản ánh tiếng ồn công trình",
        "đường trước nhà bị ngập nước",
        "tôi muốn góp ý về dịch vụ",
    ],
}
for label, texts in CASE_UTTERANCES.items():
    for t in texts:
        add(t, "case_type", label)
        add(asr_noise(t), "case_type", label, "asr")
for key, label in [
    ("một", "essentials"),
    ("số hai", "support_policy"),
    ("phím ba", "vulnerable"),
    ("bấm số bốn", "other"),
    ("1", "essentials"),
    ("Số 3.", "vulnerable"),
]:
    add(key, "case_type", label, "asr" if key[0].isdigit() or "." in key else "clean")

# ---- subject --------------------------------------------------------------------------------
SUBJECT_UTTERANCES = {
    "self": [
        "cho tôi",
        "dạ cho bản thân tôi",
        "cho chính tôi ạ",
        "cho mình thôi",
        "tôi cần cho tôi",
        "cho cá nhân tôi",
    ],
    "family": [
        "cho gia đình",
        "cho gia đình tôi",
        "cho vợ con tôi",
        "cho ba má tôi",
        "cho bố mẹ tôi ạ",
        "cho cả nhà",
        "cho mẹ tôi",
        "nhà tôi có mấy người cần",
    ],
    "neighbour": [
        "hàng xóm",
        "cho hàng xóm tôi",
        "nhà bên cạnh",
        "bà cụ cùng xóm",
        "cho nhà kế bên",
        "cho người trong hẻm",
        "người cùng dãy trọ",
    ],
    "other": [
        "người khác",
        "cho một người quen",
        "cho bạn tôi",
        "cho người ta",
        "cho một bà bán vé số",
        "giúp một người lạ ngoài đường",
    ],
}
for label, texts in SUBJECT_UTTERANCES.items():
    for t in texts:
        add(t, "subject", label)
        add(asr_noise(t), "subject", label, "asr")
for key, label in [
    ("một", "self"),
    ("số hai", "family"),
    ("3", "neighbour"),
    ("phím bốn", "other"),
]:
    add(key, "subject", label)

# ---- household size ------------------------------------------------------------------------
HOUSEHOLD = [
    ("nhà có năm người", "5"),
    ("bốn", "4"),
    ("5 người", "5"),
    ("dạ sáu người ạ", "6"),
    ("nhà tôi có ba người", "3"),
    ("tất cả là bảy người", "7"),
    ("có hai vợ chồng", "2"),
    ("tôi sống một mình", "1"),
    ("hai vợ chồng với ba đứa con", "5"),
    ("nhà có bốn người lớn và hai trẻ em", "6"),
    ("mười người", "10"),
    ("mười hai người", "12"),
    ("dạ tám", "8"),
    ("nhà có chín nhân khẩu", "9"),
    ("năm nay tôi bảy mươi tuổi, nhà có hai người", "2"),
    ("chỉ có mình tôi", "1"),
    ("Nhà có 4 người.", "4"),
    ("khoảng sáu người", "6"),
    ("ba người ạ", "3"),
    ("gia đình có mười một người", "11"),
]
for t, v in HOUSEHOLD:
    add(t, "household", v)
    add(asr_noise(t), "household", v, "asr")

# ---- names ------------------------------------------------------------------------------------
NAMES = [
    ("tên là nguyễn văn nam", "Nguyễn Văn Nam"),
    ("tôi là trần thị hồng", "Trần Thị Hồng"),
    ("tên tôi là lê văn tám", "Lê Văn Tám"),
    ("dạ em tên phạm thị lan ạ", "Phạm Thị Lan"),
    ("họ tên là võ minh tuấn", "Võ Minh Tuấn"),
    ("tôi tên huỳnh văn sáu", "Huỳnh Văn Sáu"),
    ("cháu tên là đặng ngọc anh", "Đặng Ngọc Anh"),
    ("nguyễn thị mai", "Nguyễn Thị Mai"),
    ("tên của tôi là bùi quang huy", "Bùi Quang Huy"),
    ("tôi là chị hoa", "Hoa"),
    ("bà ấy tên là lý thị bé", "Lý Thị Bé"),
    ("Tên tôi là Đỗ Văn Hải.", "Đỗ Văn Hải"),
    ("dạ trương thị thu hà", "Trương Thị Thu Hà"),
    ("em là ngô bảo châu nhé", "Ngô Bảo Châu"),
    ("tên tôi là hồ văn minh, ở quận ba", "Hồ Văn Minh"),
]
for t, v in NAMES:
    add(t, "name", v)
    add(asr_noise(t), "name", v, "asr")

# ---- street address -----------------------------------------------------------------------
ADDRESSES = [
    ("số 12 đường nguyễn trãi", "12 Nguyễn Trãi"),
    ("mười hai nguyễn trãi", "12 Nguyễn Trãi"),
    ("nhà số 45 đường lê lợi", "45 Lê Lợi"),
    ("hẻm 34 bùi viện", "hẻm 34 Bùi Viện"),
    ("số 7 hẻm 12 đường lê văn sỹ phường 13 quận 3", "7 hẻm 12 Lê Văn Sỹ"),
    ("một trăm hai mươi ba trần hưng đạo", "123 Trần Hưng Đạo"),
    ("số mười hai trên ba đường cách mạng tháng tám", "12/3 Cách Mạng Tháng 8"),
    ("nhà tôi ở số 25 đường số 7", "25 Đường số 7"),
    ("Số 120, đường Lý Thường Kiệt, Quận 10.", "120 Lý Thường Kiệt"),
    ("hai trăm linh năm nam kỳ khởi nghĩa", "205 Nam Kỳ Khởi Nghĩa"),
    ("ngõ 5 phố đội cấn", "ngõ 5 Đội Cấn"),
    ("số 88 đường ba tháng hai", "88 3 Tháng 2"),
    ("ở 15/2 phan đăng lưu", "15/2 Phan Đăng Lưu"),
    ("số tám mươi tư đường hai bà trưng", "84 Hai Bà Trưng"),
    ("nhà số 3 đường điện biên phủ quận bình thạnh", "3 Điện Biên Phủ"),
    ("kiệt 10 lê duẩn", "kiệt 10 Lê Duẩn"),
]
for t, v in ADDRESSES:
    add(t, "address", v)
    add(asr_noise(t), "address", v, "asr")

# ---- yes / no ---------------------------------------------------------------------------------
YES_NO = [
    ("đúng rồi", "yes"),
    ("vâng", "yes"),
    ("dạ phải", "yes"),
    ("ừ", "yes"),
    ("có", "yes"),
    ("dạ đúng rồi ạ", "yes"),
    ("chính xác", "yes"),
    ("ừ đúng", "yes"),
    ("không sai", "yes"),
    ("ok", "yes"),
    ("được rồi", "yes"),
    ("dạ", "yes"),
    ("vâng ạ", "yes"),
    ("phải rồi", "yes"),
    ("không", "no"),
    ("sai", "no"),
    ("không đúng", "no"),
    ("sai rồi", "no"),
    ("dạ không phải", "no"),
    ("chưa đúng", "no"),
    ("không, sai rồi", "no"),
    ("hông", "no"),
    ("không phải đâu", "no"),
    ("nhầm rồi", "no"),
    ("dạ không ạ", "no"),
]
for t, v in YES_NO:
    add(t, "yes_no", v)
    add(asr_noise(t), "yes_no", v, "asr")

# ---- asking for a human -----------------------------------------------------------------------
HUMAN = [
    ("gặp tổng đài viên", "true"),
    ("cho tôi nói chuyện với người thật", "true"),
    ("nhân viên", "true"),
    ("0", "true"),
    ("cho tôi gặp nhân viên", "true"),
    ("tôi muốn gặp người thật", "true"),
    ("chuyển máy cho tổng đài viên đi", "true"),
    ("tôi không muốn nói chuyện với máy", "true"),
    ("làm ơn cho gặp tư vấn viên", "true"),
    ("kết nối với nhân viên giùm", "true"),
    ("nhà tôi có năm người", "false"),
    ("tôi cần gạo", "false"),
    ("nhân viên y tế đến nhà rồi", "false"),
    ("không cần gặp nhân viên đâu", "false"),
    ("đúng rồi", "false"),
    ("quận ba", "false"),
]
for t, v in HUMAN:
    add(t, "human", v)
    if t != "0":
        add(asr_noise(t), "human", v, "asr")

# ---- correction after the readback ----------------------------------------------------------
CORRECTIONS = [
    ("sai địa chỉ", "address"),
    ("sai số điện thoại", "phone"),
    ("sai tên", "name"),
    ("tên chưa đúng", "name"),
    ("địa chỉ không đúng", "address"),
    ("số điện thoại bị nhầm", "phone"),
    ("sai quận rồi", "place"),
    ("phường không đúng", "place"),
    ("số người sai", "household"),
    ("không phải, sai số nhà", "address"),
    ("sửa lại họ tên giùm", "name"),
    ("ghi sai số điện thoại rồi", "phone"),
]
for t, v in CORRECTIONS:
    add(t, "correction", v)
    add(asr_noise(t), "correction", v, "asr")


def main() -> None:
    with OUT.open("w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(records)} records → {OUT}")


if __name__ == "__main__":
    main()
