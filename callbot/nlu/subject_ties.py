"""People the subject slot names by a tie rather than by kinship: the caller's residents'
group, the house they rent, the room they share (cues added to subject_cues.CUES).

"Cô Ba tổ trưởng tổ dân phố tui" is the head of the caller's block, a neighbour, whatever
the "cô" of the form of address says; "anh thuê nhà tầng trên" is a tenant, someone else;
"bạn cùng phòng em" is a roommate, a friend, not the "em" (the caller) after it.
"""

from __future__ import annotations

# The residents' group (tổ dân phố, khu phố, ấp, thôn: the South's and the North's words)
# and the people who lead it live where the caller lives: neighbours, named outright.
NEIGHBOUR_TIES: tuple[tuple[str, float], ...] = (
    ("tổ trưởng", 3),
    ("tổ phó", 3),
    ("tổ dân phố", 3),
    ("tổ dân cư", 3),
    ("trưởng khu phố", 3),
    ("trưởng khu", 3),
    ("trưởng ấp", 3),
    ("trưởng thôn", 3),
)

# The same row of rooms, block or lane as the caller ("mấy phòng trọ cùng dãy", "ở chung tổ
# dân phố với tui", "chung khu phố"): neighbours, named by what they share with the caller.
# ("cùng tổ", "chung tổ" alone may be a work team: subject_cues.py weighs them less.)
_SHARED = ("dãy", "dãy trọ", "dãy nhà", "dãy phòng", "tổ dân phố", "khu phố", "xóm", "hẻm",
           "ngõ", "ấp", "chung cư", "lầu")  # fmt: skip
SHARED_PLACES: tuple[tuple[str, float], ...] = tuple(
    (f"{same} {unit}", 3) for same in ("cùng", "chung") for unit in _SHARED
)

# A blood relative ("cậu ruột", "bà chị ruột", "em ruột của tôi"): family, wherever they live.
_KIN = ("anh", "chị", "em", "cậu", "cô", "dì", "chú", "bác", "mợ", "thím", "ông", "bà", "con",
        "cháu", "cha", "ba", "bố", "má", "mẹ")  # fmt: skip
BLOOD_KIN: tuple[tuple[str, float], ...] = tuple((f"{kin} ruột", 2) for kin in _KIN)

# A tenant said as "cho <title> thuê …" ("cho anh thuê nhà", "cho ông chú thuê phòng"): the
# title is an address, not a tie ("cho anh tôi, anh thuê nhà ở quận 8" is the brother, so
# the title must follow "cho" or "mấy"); the lodgers of the caller's own house.
_TITLES = ("anh", "chị", "cô", "chú", "bác", "ông", "bà", "ông chú", "bà cô", "cậu", "dì")
_TENANTS = tuple(
    (f"{lead} {title} {rent}", 3)
    for lead in ("cho", "mấy")
    for title in _TITLES
    for rent in ("thuê", "ở thuê", "ở trọ")
)
OTHER_TIES: tuple[tuple[str, float], ...] = (
    *_TENANTS,
    ("người ở thuê", 3),
    ("người ở trọ", 3),
    ("khách thuê", 3),
    ("khách trọ", 3),
    ("mấy người thuê", 3),
    ("mấy đứa thuê", 3),
    # A friend named by what the caller shares with them ("bạn cùng phòng", "bạn cùng quê",
    # "bạn ở chung"): "bạn" then the tie, the caller's pronoun after it their own.
    ("bạn cùng", 3),
    ("bạn ở chung", 3),
    ("bạn chung", 3),
    ("bạn ở ghép", 3),
    ("người ở chung", 3),
    ("người ở ghép", 3),
)
