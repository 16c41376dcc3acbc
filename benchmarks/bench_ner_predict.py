"""Entities from raw text, words per second on one CPU thread (issue 20's goal: >= 10k).

    OMP_NUM_THREADS=1 python benchmarks/bench_ner_predict.py [--run RUN] [--text FILE]

RUN: a trained tagger (default: train one with the default settings, `seqlab finetune tag
--train T --valid V --epochs 1`, on WikiANN-en's first 2,000 training sentences: speed does
not depend on how well it tags). FILE: plain text, a paragraph per line (default: the first
of ../shared/data/english-text/). Times `seqlab predict RUN FILE --entities` in this process,
model loading excluded, tokenizing, tagging, marginals and writing included; words are the
tokenizer's.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def first_sentences(path: Path, n: int, out: Path) -> Path:
    blocks = path.read_text(encoding="utf-8").replace("\r", "").split("\n\n")
    out.write_text("\n\n".join(blocks[:n]) + "\n", encoding="utf-8")
    return out


def train_default(work: Path) -> Path:
    from click.testing import CliRunner

    from seqlab.cli.main import cli

    ner = SHARED / "ner" / "wikiann-en"
    train = first_sentences(ner / "train.conll", 2000, work / "train.conll")
    valid = first_sentences(ner / "dev.conll", 300, work / "dev.conll")
    run = work / "run"
    args = ["finetune", "tag", "--train", str(train), "--valid", str(valid), "--epochs", "1"]
    r = CliRunner().invoke(cli, [*args, "--out", str(run), "--quiet"])
    if r.exit_code != 0:
        sys.exit(r.output)
    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--run", type=Path)
    ap.add_argument("--text", type=Path)
    ap.add_argument("--lines", type=int, default=400, help="paragraphs to tag")
    args = ap.parse_args()
    torch.set_num_threads(1)
    from seqlab.tasks.predict import make_request, predict

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        run = args.run or train_default(work)
        text = args.text or sorted((SHARED / "english-text").glob("*.txt"))[0]
        lines = [x for x in text.read_text(encoding="utf-8").splitlines() if x.strip()]
        sample = work / "sample.txt"
        sample.write_text("\n".join(lines[: args.lines]) + "\n", encoding="utf-8")
        request = make_request(run, input=sample, entities=True, device="cpu")
        model = request.load()
        request.load = lambda: model  # load once, outside the timing
        start = time.perf_counter()
        out = predict(request)
        seconds = time.perf_counter() - start
    rows = [json.loads(x) for x in out.splitlines()]
    words = sum(len(r["words"]) for r in rows)
    found = sum(len(r["entities"]) for r in rows)
    print(
        f"{words} words in {len(rows)} sentences, {found} entities: {seconds:.2f} s, "
        f"{words / seconds:,.0f} words/s (one thread, `seqlab predict RUN FILE --entities`)"
    )


if __name__ == "__main__":
    main()
