"""Numbers written out in English words, exactly as fastai's HUMAN_NUMBERS files.

Lowercase, no "and", no hyphens: 21 -> "twenty one", 305 -> "three hundred five",
9000 -> "nine thousand".
"""

from __future__ import annotations

UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def words(n: int) -> list[str]:
    """The words of 1 <= n <= 9,999."""
    if not 1 <= n <= 9999:
        raise ValueError(f"human numbers cover 1..9,999, not {n}")
    out: list[str] = []
    thousands, rest = divmod(n, 1000)
    hundreds, rest = divmod(rest, 100)
    if thousands:
        out += [UNITS[thousands], "thousand"]
    if hundreds:
        out += [UNITS[hundreds], "hundred"]
    if rest >= 20:
        out.append(TENS[rest // 10])
        rest %= 10
    if rest:
        out.append(UNITS[rest])
    return out


def text(n: int) -> str:
    return " ".join(words(n))
