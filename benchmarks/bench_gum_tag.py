"""UPOS tagging of GUM: pretrained forward/backward LMs vs from scratch vs most frequent tag.

Data: ../shared/data/ud-gum (UD English GUM, CC BY-NC-SA 4.0), 17 UPOS tags. Protocol: train
on the dev split, report on the test split. The dev sentences are cut (seeded) into 90% train
/ 10% valid (valid picks the best checkpoint); every method trains on the same 90%. Steps, each
a `seqlab` command as a user would type it:

  1. seqlab pretrain dev.txt --doc-per-line [--backward]   forward and backward LMs on the
                                                            dev split's words (no tags)
  2. seqlab finetune tag --encoder FWD [--backward-encoder BWD] [--from-scratch] [--crf]
       --train train.conllu --valid valid.conllu --test test.conllu          per seed
  3. most frequent tag per training word (unseen words: the commonest tag overall)

Printed: token accuracy on test (mean ± sd over seeds), on test words never seen in training,
and seconds (wall clock of the command, process start included; LM pretraining separately).

    OMP_NUM_THREADS=1 python benchmarks/bench_gum_tag.py [--seeds 3] [--data DIR] [--work DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

from common.proc import seqlab_wall
from common.tables import hold_out, markdown, mean_sd

from seqlab_tagging.readers import read

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ud-gum"
# The LM of bench_gum_classify.py (same text, same size), so the two benchmarks compare.
LM = [
    "--hidden",
    "256",
    "--emb-size",
    "128",
    "--layers",
    "2",
    "--bs",
    "16",
    "--bptt",
    "40",
    "--input-drop",
    "0.25",
    "--hidden-drop",
    "0.15",
    "--weight-drop",
    "0.2",
    "--emb-drop",
    "0.02",
    "--out-drop",
    "0.1",
    "--min-freq",
    "1",
]
METHODS = [  # name, finetune options ("BWD": the backward LM)
    ("from scratch, forward", ["--from-scratch"]),
    ("from scratch, forward + backward", ["BWD", "--from-scratch"]),
    ("pretrained forward", []),
    ("pretrained forward + backward", ["BWD"]),
    ("pretrained forward + backward, CRF", ["BWD", "--crf"]),
]


def seqlab(*args) -> float:
    """Run a seqlab command; its wall-clock seconds."""
    return seqlab_wall(*args)[0]


def write_conllu(path: Path, sentences) -> Path:
    path.write_text("".join("\n".join(s.lines) + "\n\n" for s in sentences), encoding="utf-8")
    return path


def most_frequent_tag(train, test) -> tuple[list[list[str]], float]:
    start = time.perf_counter()
    counts: dict[str, Counter] = defaultdict(Counter)
    for s in train:
        for w, t in zip(s.words, s.tags, strict=True):
            counts[w][t] += 1
    commonest = Counter(t for s in train for t in s.tags).most_common(1)[0][0]
    best = {w: c.most_common(1)[0][0] for w, c in counts.items()}
    pred = [[best.get(w, commonest) for w in s.words] for s in test]
    return pred, time.perf_counter() - start


def accuracies(pred, test, seen: set[str]) -> tuple[float, float]:
    """Token accuracy overall and on words never seen in training."""
    pairs = [
        (p, t, w in seen)
        for ps, s in zip(pred, test, strict=True)
        for p, t, w in zip(ps, s.tags, s.words, strict=True)
    ]
    unseen = [(p, t) for p, t, known in pairs if not known]
    return (
        sum(p == t for p, t, _ in pairs) / len(pairs),
        sum(p == t for p, t in unseen) / max(len(unseen), 1),
    )


def predicted_tags(run: Path, test_file: Path) -> list[list[str]]:
    cmd = [sys.executable, "-m", "seqlab", "predict", str(run), str(test_file), "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return [json.loads(line)["tags"] for line in done.stdout.splitlines()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--lm-epochs", type=int, default=15)
    ap.add_argument("--epochs", type=int, default=10, help="fine-tuning epochs")
    ap.add_argument("--device", default="auto", help="auto, cpu or cuda")
    ap.add_argument("--work", type=Path, default=None, help="keep the runs here")
    args = ap.parse_args()
    for split in ("dev", "test"):
        if not (args.data / f"en_gum-ud-{split}.conllu").is_file():
            sys.exit(f"{args.data}: no en_gum-ud-{split}.conllu (see its README)")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    work = args.work or Path(tempfile.mkdtemp(prefix="gum-tag-"))
    work.mkdir(parents=True, exist_ok=True)

    dev = read(args.data / "en_gum-ud-dev.conllu")
    test = read(args.data / "en_gum-ud-test.conllu")
    train, valid = hold_out(dev)
    files = {
        n: write_conllu(work / f"{n}.conllu", ss)
        for n, ss in (("train", train), ("valid", valid), ("test", test))
    }
    (work / "dev.txt").write_text("".join(" ".join(s.words) + "\n" for s in dev), encoding="utf-8")
    seen = {w for s in train for w in s.words}
    n_unseen = sum(w not in seen for s in test for w in s.words)
    n_test = sum(len(s.words) for s in test)
    print(
        f"GUM UPOS: {len(train)} train / {len(valid)} valid sentences (dev), {len(test)} test "
        f"({n_test} words, {n_unseen / n_test:.1%} unseen in train); runs in {work}",
        flush=True,
    )

    lm_seconds = {}
    for name, extra in (("fwd", []), ("bwd", ["--backward"])):
        lm_seconds[name] = seqlab(
            "pretrain",
            work / "dev.txt",
            "--doc-per-line",
            *LM,
            *extra,
            "--epochs",
            args.lm_epochs,
            "--device",
            args.device,
            "--cache-dir",
            work / "cache",
            "--out",
            work / name,
        )
        m = list(csv.DictReader(open(work / name / "metrics.csv")))[-1]
        print(
            f"{name} LM pretrained in {lm_seconds[name]:.0f} s: valid perplexity "
            f"{float(m['perplexity']):.1f}, accuracy {float(m['accuracy']):.3f}",
            flush=True,
        )

    table = []
    pred, seconds = most_frequent_tag(train, test)
    acc, unseen = accuracies(pred, test, seen)
    table.append(
        ("most frequent tag per word", mean_sd([acc], 4), mean_sd([unseen], 4), f"{seconds:.1f}")
    )
    print(f"  most frequent tag: accuracy {acc:.4f}, unseen words {unseen:.4f}", flush=True)
    data = ["--train", files["train"], "--valid", files["valid"], "--test", files["test"]]
    for name, extra in METHODS:
        extra = [
            a for x in extra for a in (["--backward-encoder", work / "bwd"] if x == "BWD" else [x])
        ]
        accs, unseens, secs = [], [], []
        for seed in range(1, args.seeds + 1):
            out = work / f"{name.replace(' ', '_').replace(',', '')}-{seed}"
            s = seqlab(
                "finetune",
                "tag",
                "--encoder",
                work / "fwd",
                *extra,
                *data,
                "--epochs",
                args.epochs,
                "--seed",
                seed,
                "--device",
                args.device,
                "--out",
                out,
            )
            acc, unseen = accuracies(predicted_tags(out, files["test"]), test, seen)
            accs.append(acc)
            unseens.append(unseen)
            secs.append(s)
            print(
                f"  {name}, seed {seed}: accuracy {acc:.4f}, unseen words {unseen:.4f} ({s:.0f} s)",
                flush=True,
            )
        table.append((name, mean_sd(accs, 4), mean_sd(unseens, 4), f"{statistics.mean(secs):.0f}"))

    print("\n" + markdown(["method", "test accuracy", "on unseen words", "seconds"], table))
    print(
        f"\nLM pretraining: forward {lm_seconds['fwd']:.0f} s, backward "
        f"{lm_seconds['bwd']:.0f} s; {args.seeds} seeds; fine-tuning {args.epochs} epochs"
    )


if __name__ == "__main__":
    main()
