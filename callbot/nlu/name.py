"""The caller's (or the person in need's) name."""

from __future__ import annotations

from callbot.nlu.extraction import Extraction
from callbot.nlu.text import fold, normalise, title_case, word_set

# Folded phrases after which a name follows; longest first so "tên tôi là" beats "tôi là".
_MARKERS = sorted(
    (
        "ten toi la",
        "ten em la",
        "ten chau la",
        "ten con la",
        "ten minh la",
        "ten cua toi la",
        "ho ten la",
        "ho va ten la",
        "ho ten cua toi la",
        "ho ten",
        "ten la",
        "toi ten",
        "em ten",
        "chau ten",
        "con ten",
        "minh ten",
        "toi ten la",
        "em ten la",
        "toi la",
        "em la",
        "chau la",
        "day la",
        "ten",
        "ten cua ba ay la",
        "ten cua ong ay la",
        "ten ba",
        "ten ong",
        "ba ay ten",
        "ong ay ten",
        "ba ay ten la",
        "ong ay ten la",
        "ten nguoi do la",
        # Recognisers drop the unstressed "là": "tên tôi Lê Văn Tám".
        "ten toi",
        "ten em",
        "ten chau",
        "ten con",
        "ten minh",
        "chau ten la",
        "con ten la",
        "minh ten la",
    ),
    key=len,
    reverse=True,
)
# Kinship titles callers put before a name ("tôi là chị Lan"); dropped when a name follows.
_TITLES = word_set("ong ba anh chi co chu bac di em chau con thim mo cu")
# Tokens (accented) that end a name: particles, and the start of the next piece of information.
_STOP_ACCENTED = word_set(
    "ạ à nhé nha nhá ở sống số điện năm tuổi và còn thưa đó đấy nhà hiện đang xin cảm là "
    "hả nè cần muốn gọi bên tại thì ờ ừ dạ vâng mà"
)
# Common family names, to accept an answer that is only a name ("Nguyễn Văn Nam").
_SURNAMES = word_set(
    fold(
        "nguyễn trần lê phạm hoàng huỳnh phan vũ võ đặng bùi đỗ hồ ngô dương lý đinh trương "
        "lâm mai trịnh đoàn cao lưu tô hà tạ châu quách thái kiều hứa diệp lương tăng triệu "
        "văn la lã khổng thân mạc tôn phùng giang nghiêm âu đàm kim hầu vương"
    )
)
_MAX_NAME_TOKENS = 5
# Folded words around a bare name ("dạ em Ngô Bảo Châu nhé"); a recogniser writes "ạ" as "a".
_LEADING = word_set("da vang em toi chau con minh")
_TRAILING = word_set("a nhe nha")


def _strip_particles(words: list[str]) -> list[str]:
    """Drop leading "dạ"/pronouns and trailing particles around a bare name."""
    while words and fold(words[0]) in _LEADING:
        words = words[1:]
    while words and fold(words[-1]) in _TRAILING:
        words = words[:-1]
    return words


def _name_tokens(acc: list[str], start: int) -> list[str]:
    taken: list[str] = []
    while start < len(acc) and fold(acc[start]) == "la":  # a second "là" after the marker
        start += 1
    for tok in acc[start:]:
        if tok in _STOP_ACCENTED or tok.isdigit() or len(taken) == _MAX_NAME_TOKENS:
            break
        taken.append(tok)
    if len(taken) >= 2 and fold(taken[0]) in _TITLES:
        taken = taken[1:]
    return _strip_particles(taken)


def extract_name(text: str) -> Extraction | None:
    acc = normalise(text).split()
    fol = [fold(t) for t in acc]
    padded = " " + " ".join(fol) + " "
    for marker in _MARKERS:
        pos = padded.find(f" {marker} ")
        if pos == -1:
            continue
        start = padded[: pos + 1].count(" ") - 1 + marker.count(" ") + 1
        name = _name_tokens(acc, start)
        if name:
            value = title_case(" ".join(name))
            return Extraction(value, 0.9 if len(name) >= 2 else 0.7, " ".join(name))
    # No marker: accept a bare answer that looks like a full name.
    bare = _strip_particles(acc)
    if (
        2 <= len(bare) <= _MAX_NAME_TOKENS
        and fold(bare[0]) in _SURNAMES
        and all(t.isalpha() and t not in _STOP_ACCENTED for t in bare)
    ):
        return Extraction(title_case(" ".join(bare)), 0.7, " ".join(bare))
    return None
