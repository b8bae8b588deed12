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
