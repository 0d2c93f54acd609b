"""The words of 好差评: the five levels and the reason codes, zh-CN and English.

Levels are numbers (5 best) in the register, codes over the API. The reason
codes offered are configured (`ratings.reasons`); their names live here, and a
configured code without a name is shown as it is.
"""

from __future__ import annotations

from typing import Any

# level → (code, zh, en), best first.
LEVELS: dict[int, tuple[str, str, str]] = {
    5: ("very_satisfied", "非常满意", "Very satisfied"),
    4: ("satisfied", "满意", "Satisfied"),
    3: ("fair", "基本满意", "Fairly satisfied"),
    2: ("dissatisfied", "不满意", "Dissatisfied"),
    1: ("very_dissatisfied", "非常不满意", "Very dissatisfied"),
}
LEVEL_BY_CODE = {code: level for level, (code, _, _) in LEVELS.items()}
# The bottom two levels (差评) open a follow-up (整改).
BAD_LEVELS = frozenset({1, 2})
# 满意率: the share of ratings at 基本满意 or better.
SATISFIED_LEVELS = frozenset({3, 4, 5})

REASON_NAMES: dict[str, tuple[str, str]] = {
    "long_wait": ("等候时间长", "Long wait"),
    "attitude": ("服务态度不好", "Unfriendly service"),
    "unclear": ("解释说明不清楚", "Unclear explanations"),
    "slow": ("办理速度慢", "Slow handling"),
    "technical": ("视频或设备故障", "Video or device trouble"),
    "materials": ("材料要求反复", "Materials asked for again and again"),
    "other": ("其他", "Other"),
}


def level_names(level: int) -> dict[str, str]:
    code, zh, en = LEVELS[level]
    return {"code": code, "zh": zh, "en": en}


def reason_names(code: str) -> dict[str, str]:
    zh, en = REASON_NAMES.get(code, (code, code))
    return {"code": code, "zh": zh, "en": en}


def options(reasons: list[str], comment_max: int) -> dict[str, Any]:
    """What a rating screen offers: levels best first, reasons, the comment limit."""
    return {
        "levels": [{"level": lv, **level_names(lv)} for lv in sorted(LEVELS, reverse=True)],
        "bad_levels": sorted(BAD_LEVELS),
        "reasons": [reason_names(code) for code in reasons],
        "comment_max": comment_max,
    }
