"""Write the sample files in examples/: small enough that every command in the guides runs in
seconds on them, shaped like real data (the formats, the columns, a held-out split).

The sentences come from a small seeded grammar, so the files are synthetic: a model learns
their patterns quickly, which is all a sample has to show. Run `python examples/make_examples.py`
to write them again (the output is the same every time).

    text/*.txt                   unlabelled text, one paragraph per line (pretraining)
    reviews.txt                  unlabelled reviews, one per line (pretraining --doc-per-line)
    train.csv valid.csv test.csv labelled reviews: text,label (positive / negative)
    train.jsonl valid.jsonl      the same as JSON lines
    new.txt new.csv              reviews to classify
    train.conllu dev.conllu test.conllu   part-of-speech tags (UPOS), CoNLL-U
    train.conll dev.conll        named entities (BIO), CoNLL columns: word, tag
    sentences.txt                sentences to tag, one per line
    news.txt                     raw text with entities, a paragraph per line (docs/ner.md)
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

HERE = Path(__file__).parent

DET = ["the", "a", "this", "every"]
ADJ = ["small", "old", "red", "quiet", "busy", "bright", "cold", "green"]
NOUN = ["dog", "river", "train", "garden", "window", "teacher", "market", "boat"]
VERB = ["sees", "follows", "finds", "paints", "watches", "passes", "leaves", "builds"]
ADV = ["slowly", "often", "again", "early"]
PERSON = ["Anna", "Omar", "Lena", "Tomas", "Mei", "Kofi"]
PLACE = ["Paris", "Lagos", "Lima", "Oslo", "Hanoi", "Quebec"]
ORG = ["Acme", "Globex", "Initech"]

GOOD = ["wonderful", "great", "moving", "funny", "beautiful", "clever"]
BAD = ["boring", "awful", "dull", "silly", "slow", "clumsy"]
THING = ["film", "story", "acting", "ending", "music", "script"]


def pos_sentence(rng: random.Random) -> list[tuple[str, str]]:
    """(word, UPOS) pairs: DET (ADJ) NOUN VERB DET (ADJ) NOUN (ADV) ."""
    words: list[tuple[str, str]] = []
    for _ in range(2):
        words.append((rng.choice(DET), "DET"))
        if rng.random() < 0.6:
            words.append((rng.choice(ADJ), "ADJ"))
        words.append((rng.choice(NOUN), "NOUN"))
        if len(words) < 4:
            words.append((rng.choice(VERB), "VERB"))
    if rng.random() < 0.4:
        words.append((rng.choice(ADV), "ADV"))
    return words + [(".", "PUNCT")]


def ner_sentence(rng: random.Random) -> list[tuple[str, str]]:
    """(word, BIO tag) pairs: a person, a place, perhaps an organisation."""
    person = [(rng.choice(PERSON), "B-PER")]
    if rng.random() < 0.3:
        person.append((rng.choice(["Smith", "Diaz", "Okafor"]), "I-PER"))
    place = [(rng.choice(PLACE), "B-LOC")]
    pattern = rng.randrange(3)
    if pattern == 0:
        words = person + [("lives", "O"), ("in", "O")] + place
    elif pattern == 1:
        org = [(rng.choice(ORG), "B-ORG")]
        words = person + [("works", "O"), ("for", "O")] + org + [("in", "O")] + place
    else:
        words = [("in", "O")] + place + [(",", "O")] + person + [("met", "O")]
        words += [(rng.choice(PERSON), "B-PER")]
    return words + [(".", "O")]


def review(rng: random.Random, label: str) -> str:
    words = GOOD if label == "positive" else BAD
    first = f"the {rng.choice(THING)} was {rng.choice(words)}"
    second = f"and the {rng.choice(THING)} was {rng.choice(words)}"
    ending = rng.choice(["", " , I would watch it again", " , what a night"])
    if label == "negative" and ending:
        ending = rng.choice([" , never again", " , I left early"])
    return f"{first} {second}{ending}"


def conllu(sentences: list[list[tuple[str, str]]]) -> str:
    blocks = []
    for k, sentence in enumerate(sentences, 1):
        lines = [f"# sent_id = {k}", f"# text = {' '.join(w for w, _ in sentence)}"]
        for i, (word, tag) in enumerate(sentence, 1):
            lines.append(f"{i}\t{word}\t{word.lower()}\t{tag}\t_\t_\t0\t_\t_\t_")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def conll(sentences: list[list[tuple[str, str]]]) -> str:
    return "\n".join("".join(f"{w}\t{t}\n" for w, t in s) for s in sentences)


def labelled(rng: random.Random, n: int) -> list[dict[str, str]]:
    labels = ["positive", "negative"] * (n // 2)
    rng.shuffle(labels)
    return [{"text": review(rng, label), "label": label} for label in labels]


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    rng = random.Random(7)
    text = HERE / "text"
    text.mkdir(exist_ok=True)
    for name in ("river", "market", "garden"):
        paragraphs = [
            " ".join(" ".join(w for w, _ in pos_sentence(rng)) for _ in range(6)) for _ in range(12)
        ]
        (text / f"{name}.txt").write_text("\n".join(paragraphs) + "\n", encoding="utf-8")
    reviews = [review(rng, rng.choice(["positive", "negative"])) for _ in range(300)]
    (HERE / "reviews.txt").write_text("\n".join(reviews) + "\n", encoding="utf-8")
    for name, n in (("train", 60), ("valid", 20), ("test", 20)):
        rows = labelled(rng, n)
        write_csv(HERE / f"{name}.csv", rows)
        if name != "test":
            jsonl = "".join(json.dumps(r) + "\n" for r in labelled(rng, n))
            (HERE / f"{name}.jsonl").write_text(jsonl, encoding="utf-8")
    new = [review(rng, rng.choice(["positive", "negative"])) for _ in range(5)]
    (HERE / "new.txt").write_text("\n".join(new) + "\n", encoding="utf-8")
    write_csv(HERE / "new.csv", [{"text": t} for t in new])
    for name, n in (("train", 60), ("dev", 20), ("test", 20)):
        (HERE / f"{name}.conllu").write_text(
            conllu([pos_sentence(rng) for _ in range(n)]), encoding="utf-8"
        )
    for name, n in (("train", 60), ("dev", 20)):
        (HERE / f"{name}.conll").write_text(
            conll([ner_sentence(rng) for _ in range(n)]), encoding="utf-8"
        )
    sentences = [" ".join(w for w, _ in pos_sentence(rng)) for _ in range(4)]
    (HERE / "sentences.txt").write_text("\n".join(sentences) + "\n", encoding="utf-8")
    (HERE / "news.txt").write_text(news(random.Random(11)), encoding="utf-8")


def news(rng: random.Random) -> str:
    """Paragraphs of raw text as a user has it: punctuation against the words (`Oslo.`,
    `(Acme)`), several sentences a line; the tokenizer must split them as the CoNLL files are."""
    paragraphs = []
    for _ in range(3):
        sentences = []
        for _ in range(3):
            words = [w for w, _ in ner_sentence(rng)]
            text = " ".join(words[:-1]) + "."
            sentences.append(text[0].upper() + text[1:].replace(" ,", ","))
        paragraphs.append(" ".join(sentences))
    return "\n".join(paragraphs) + "\n"


if __name__ == "__main__":
    main()
