"""human-numbers-roles: every word of the stream tagged with its role in its number.

    nine thousand  two      hundred  thirty  one    ,    ...
    THOUSANDS THOUSAND HUNDREDS HUNDRED TENS UNITS SEP

A forward reader cannot tag "one" at the start of a number (THOUSANDS in "one thousand",
HUNDREDS in "one hundred", UNITS in "one ,"): the answer is in the next word, so this is
the demo for a backward encoder.

Examples are windows of the stream: 5 numbers in increasing order joined by ",". Train:
500 numbers drawn (seeded) from 1..8,000, in 100 windows; valid: 250 other numbers from
1..8,000 (50 windows); test: all of 8,001..9,999 (400 windows, the last one of 4). The LM
trains on the stream of 1..8,000, so the test numbers are new to it too.
"""

from __future__ import annotations

import random

from seqlab_human_numbers.numbers import TENS, words

TAGS = ("THOUSANDS", "THOUSAND", "HUNDREDS", "HUNDRED", "TENS", "UNITS", "SEP")
WINDOW = 5  # numbers per example
SEED = 0


def roles(n: int) -> list[str]:
    """The role of each word of `words(n)`."""
    out = []
    ws = words(n)
    for i, w in enumerate(ws):
        following = ws[i + 1] if i + 1 < len(ws) else None
        if w == "thousand":
            out.append("THOUSAND")
        elif w == "hundred":
            out.append("HUNDRED")
        elif following == "thousand":
            out.append("THOUSANDS")
        elif following == "hundred":
            out.append("HUNDREDS")
        elif w in TENS:
            out.append("TENS")
        else:
            out.append("UNITS")
    return out


def example(numbers: list[int]) -> tuple[list[str], list[str]]:
    """(words, tags) of numbers joined by ","."""
    ws, ts = [], []
    for i, n in enumerate(numbers):
        if i:
            ws.append(",")
            ts.append("SEP")
        ws += words(n)
        ts += roles(n)
    return ws, ts


def windows(numbers: list[int]) -> list[tuple[list[str], list[str]]]:
    return [example(numbers[i : i + WINDOW]) for i in range(0, len(numbers), WINDOW)]


def human_numbers_roles() -> dict:
    drawn = random.Random(SEED).sample(range(1, 8001), 750)
    train, valid = sorted(drawn[:500]), sorted(drawn[500:])
    return {
        "task": "tag",
        "description": "roles of the words of human numbers (THOUSANDS, HUNDRED, TENS, ...): "
        "train 500 numbers of 1..8,000, test 8,001..9,999",
        "tags": list(TAGS),
        "train": windows(train),
        "valid": windows(valid),
        "test": windows(list(range(8001, 10000))),
    }
