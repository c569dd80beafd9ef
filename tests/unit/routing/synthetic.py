"""Small labelled sets written for the tests (never rows of ../shared/data): each category has
words of its own that the keyword rules do not know, so a model can learn what the rules cannot."""

from __future__ import annotations

import random

#: category -> words only its questions use (everyday words, none of them a rule keyword).
SIGNS = {
    "婚姻家庭": ["蓝色雨伞", "旧钢琴", "阳台花盆", "小猫咪"],
    "劳动争议": ["红色风筝", "木头凳子", "铁皮饭盒", "长颈鹿"],
    "交通事故": ["绿色帽子", "玻璃瓶子", "竹子篮子", "大熊猫"],
}
FILLERS = ["我想问一下", "请问", "你好", "麻烦问下", "想咨询"]
ENDINGS = ["怎么办", "该怎么处理", "有什么办法", "能不能解决", "应该找谁"]


def questions(per_category: int = 20, seed: int = 7) -> list[tuple[str, str]]:
    """(text, category) pairs, shuffled."""
    rng = random.Random(seed)
    out = []
    for category, signs in SIGNS.items():
        for _ in range(per_category):
            a, b = rng.sample(signs, 2)
            out.append((f"{rng.choice(FILLERS)}，家里的{a}和{b}的事情{rng.choice(ENDINGS)}", category))
    rng.shuffle(out)
    return out
