"""Well-known areas and landmarks that callers name instead of their district.

"Nhà em ở khu Phú Mỹ Hưng", "trọ ở Hàng Xanh", "cư xá Bắc Hải": the area lies wholly in
one 2021 district, so naming it names the district. Only names that are no 2021 district
nor 2025 ward are here (those are matched as units; a pre-2025 ward's name such as "Thảo
Điền" is here for when it is said bare, without "phường"), each of two syllables or more
(one-syllable names are everyday words), and only places in one district: "Chợ Lớn" (Quận
5 and 6), "cầu Thị Nghè" (Quận 1 and Bình Thạnh), "Làng Đại học" (Thủ Đức and Dĩ An) are
not. Matched on folded words, exactly: a name heard one sound off is not guessed at here.
"""

from __future__ import annotations

from functools import lru_cache

# Folded name → the 2021 district it lies in.
_LANDMARKS: dict[str, str] = {
    "phu my hung": "Quận 7",
    "khu che xuat tan thuan": "Quận 7",
    "thao dien": "Thành phố Thủ Đức",
    "thu thiem": "Thành phố Thủ Đức",
    "khu cong nghe cao": "Thành phố Thủ Đức",
    "suoi tien": "Thành phố Thủ Đức",
    "vinhomes grand park": "Thành phố Thủ Đức",
    "hang xanh": "Quận Bình Thạnh",
    "ba chieu": "Quận Bình Thạnh",
    "thanh da": "Quận Bình Thạnh",
    "landmark 81": "Quận Bình Thạnh",
    "vinhomes central park": "Quận Bình Thạnh",
    "ten lua": "Quận Bình Tân",
    "ben xe mien tay": "Quận Bình Tân",
    "cu xa bac hai": "Quận 10",
    "ky hoa": "Quận 10",
    "dam sen": "Quận 11",
    "kim bien": "Quận 5",
    "cho ray": "Quận 5",
    "cu xa phu lam": "Quận 6",
    "bui vien": "Quận 1",
    "pho di bo nguyen hue": "Quận 1",
    "nha tho duc ba": "Quận 1",
    "trung chanh": "Huyện Hóc Môn",
    "cong vien phan mem quang trung": "Quận 12",
}
_LONGEST = max(len(k.split()) for k in _LANDMARKS)


@lru_cache(maxsize=1)
def _first_words() -> frozenset[str]:
    return frozenset(k.split()[0] for k in _LANDMARKS)


def landmark_at(fol: list[str], i: int) -> tuple[str, int] | None:
    """The district of the landmark named at folded token ``i`` and the token after its
    name, longest name first, or None."""
    if fol[i] not in _first_words():
        return None
    for end in range(min(len(fol), i + _LONGEST), i + 1, -1):
        district = _LANDMARKS.get(" ".join(fol[i:end]))
        if district is not None:
            return district, end
    return None
