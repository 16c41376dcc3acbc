"""Write the sample files of docs/python.md: a seeded toy grammar of short reviews, tiny so the
page runs as a test in seconds. Run `python examples/python/make_data.py` to write them again
(the output is the same every time).

    text.txt               unlabelled sentences, one per line (pretraining)
    train.conll dev.conll  part-of-speech tags, CoNLL columns: word, tag
    train.csv valid.csv    labelled sentences: text,label (pos / neg)
"""

from __future__ import annotations

import random
from pathlib import Path

HERE = Path(__file__).parent

DET = ["the", "a", "this", "that"]
ADJ_POS = ["good", "great", "lovely", "fine", "warm"]
ADJ_NEG = ["bad", "awful", "dull", "poor", "cold"]
NOUN = ["film", "book", "meal", "song", "room", "show", "cake", "story"]
VERB = ["was", "is", "seemed", "felt"]
ADV = ["very", "quite", "really", "so"]


def sentence(rng: random.Random, adjs: list[str]) -> tuple[list[str], list[str]]:
    words = [rng.choice(DET), rng.choice(NOUN), rng.choice(VERB)]
    tags = ["DET", "NOUN", "VERB"]
    if rng.random() < 0.5:
        words.append(rng.choice(ADV))
        tags.append("ADV")
    words += [rng.choice(adjs), "."]
    tags += ["ADJ", "PUNCT"]
    return words, tags


def main() -> None:
    rng = random.Random(7)
    with open(HERE / "text.txt", "w", encoding="utf-8") as f:
        for _ in range(300):
            f.write(" ".join(sentence(rng, ADJ_POS + ADJ_NEG)[0]) + "\n")
    for name, n in (("train.conll", 40), ("dev.conll", 10)):
        with open(HERE / name, "w", encoding="utf-8") as f:
            for _ in range(n):
                words, tags = sentence(rng, ADJ_POS + ADJ_NEG)
                f.write("".join(f"{w}\t{t}\n" for w, t in zip(words, tags, strict=True)) + "\n")
    for name, n in (("train.csv", 60), ("valid.csv", 16)):
        with open(HERE / name, "w", encoding="utf-8") as f:
            f.write("text,label\n")
            for i in range(n):
                label = "pos" if i % 2 == 0 else "neg"
                words, _ = sentence(rng, ADJ_POS if label == "pos" else ADJ_NEG)
                f.write(f"{' '.join(words)},{label}\n")


if __name__ == "__main__":
    main()
