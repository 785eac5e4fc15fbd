"""Which language to answer in: the one rule the NLU component and the actions share.

Kept apart from the Rasa component (:mod:`daogou_nlu.language`) because the
action server needs the rule but not Rasa: importing Rasa's NLU engine pulls
in TensorFlow and added seconds to every action server start.
"""
from __future__ import annotations

import re

SUPPORTED = ("en", "zh")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def detect_language(text: str, default: str = "en") -> str:
    """Chinese if the message has any Chinese characters, else English.

    Mixed messages ("想要一个 noise cancelling 耳机") come from Chinese speakers
    using English product words, so any Chinese character wins.
    """
    if not text:
        return default
    return "zh" if _CJK.search(text) else "en"
