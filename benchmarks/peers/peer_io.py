"""What every peer script of the benches shares: reading the bench's CoNLL-U and CoNLL NER
splits, writing predicted tags, one thread, and the RESULT line.

The peer scripts run in the peers' own virtual environment (spaCy, flair), never in seqlab's,
so this module uses the standard library only. (Not named `conllu`: flair imports the PyPI
package of that name, and this folder comes first on sys.path.)
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path


def one_thread() -> None:
    """Run on one CPU thread (call before importing numpy / torch)."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"


def arguments(doc: str, split_help: str | None = None) -> argparse.ArgumentParser:
    """The options every peer script takes from the bench: --train/--dev/--test (the splits),
    --work (its own folder) and --pred (where the predicted test labels go)."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    for split in ("train", "dev", "test"):
        ap.add_argument(f"--{split}", required=True, help=split_help)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--pred", required=True)
    return ap


def read_conllu(path: str) -> list[tuple[list[str], list[str]]]:
    """(words, UPOS tags) of each sentence; multi-word tokens (3-4) and empty nodes (5.1) are
    not words (the bench writes files without them, this only makes sure)."""
    out: list[tuple[list[str], list[str]]] = []
    words: list[str] = []
    tags: list[str] = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n").rstrip("\r")
            if not line.strip():
                if words:
                    out.append((words, tags))
                words, tags = [], []
                continue
            if line.startswith("#"):
                continue
            cols = line.split("\t")
            if "-" in cols[0] or "." in cols[0]:
                continue
            words.append(cols[1])
            tags.append(cols[3])
    if words:
        out.append((words, tags))
    return out


def read_conll(path: str) -> list[tuple[list[str], list[str]]]:
    """(words, BIO tags) of each sentence of a CoNLL NER file (word ... TAB tag, the tag last);
    a TAB-only or BOM-only line is blank, as in WNUT17."""
    out, words, tags = [], [], []
    with open(path, encoding="utf-8-sig") as f:
        for line in f:
            line = line.rstrip("\n").rstrip("\r")
            if not line.replace("\ufeff", "").strip():
                if words:
                    out.append((words, tags))
                words, tags = [], []
                continue
            cols = line.split("\t") if "\t" in line else line.split()
            words.append(cols[0])
            tags.append(cols[-1])
    if words:
        out.append((words, tags))
    return out


def bio_spans(tags: list[str]) -> list[tuple[int, int, str]]:
    """(start, end, type) of the entities of BIO tags; a stray `I-X` (after O or another
    type) starts an entity, as conlleval reads it."""
    out: list[tuple[int, int, str]] = []
    for i, t in enumerate(tags):
        if t == "O" or "-" not in t:
            continue
        kind = t[2:]
        if t.startswith("I-") and out and out[-1][1] == i and out[-1][2] == kind:
            out[-1] = (out[-1][0], i + 1, kind)
        else:
            out.append((i, i + 1, kind))
    return out


def read_csv(path: str) -> list[tuple[str, str]]:
    """(text, label) rows of a CSV with text and label columns (the classifier benches')."""
    with open(path, encoding="utf-8", newline="") as f:
        return [(row["text"], row["label"]) for row in csv.DictReader(f)]


def write_tags(path: str, tags: list[list[str]]) -> None:
    """One tag per line, a blank line after each sentence: what the bench scores."""
    with open(path, "w", encoding="utf-8") as f:
        for sent in tags:
            f.write("".join(t + "\n" for t in sent) + "\n")


def children_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes so far."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cpu() -> float:
    """CPU seconds of this process (all its threads)."""
    return time.process_time()


def spacy(*args: str) -> None:
    """Run `python -m spacy ARGS` (this venv's spaCy); exit with a message if it fails."""
    cmd = [sys.executable, "-m", "spacy", *args]
    print("$ " + " ".join(cmd), flush=True)
    done = subprocess.run(cmd)
    if done.returncode != 0:
        sys.exit(f"spacy {args[0]} failed (exit {done.returncode})")


def spacy_train(cfg, train, dev, out, seed: int, quick: bool, extra=()) -> float:
    """`spacy train CFG` on the .spacy files TRAIN and DEV into OUT (model-best inside), with
    the config overrides EXTRA; the CPU seconds it took (its own process)."""
    overrides = [*extra,
        "--paths.train", str(train), "--paths.dev", str(dev),
        "--system.seed", str(seed), "--training.seed", str(seed),
    ]  # fmt: skip
    if quick:
        overrides += ["--training.max_steps", "20", "--training.eval_frequency", "10"]
    before = children_cpu()
    spacy("train", str(cfg), "--output", str(out), *overrides)
    return children_cpu() - before


def result(**fields) -> None:
    """The line the bench reads: `RESULT {json}`, last on stdout."""
    sys.stdout.flush()
    print("RESULT " + json.dumps(fields), flush=True)
