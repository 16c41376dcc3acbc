"""Genre classification of GUM sentences: ULMFiT-style transfer vs from scratch vs TF-IDF.

Data: ../shared/data/ud-gum (UD English GUM, CC BY-NC-SA 4.0). Each sentence's genre (15 of
them) is in its sent_id. Protocol: train on the dev split, report on the test split. The dev
sentences are cut (seeded) into 90% train / 10% valid (valid picks the best checkpoint); all
three methods train on the same 90%. Steps, each a `seqlab` command as a user would type it:

  1. seqlab pretrain dev.txt --doc-per-line ...      LM on the dev sentences (no labels)
  2. seqlab finetune classify --encoder LM ...        pretrained, per seed
  3. the same without gradual unfreezing and discriminative lrs (an ablation)
  4. seqlab finetune classify --from-scratch ...      same architecture, fresh weights
  5. scikit-learn TF-IDF (word 1-2 grams) + logistic regression

Printed: accuracy and macro-F1 on test (mean ± sd over seeds) and seconds (wall clock of the
command, process start included; the pretrained row also shows the LM's pretraining time).

    OMP_NUM_THREADS=1 python benchmarks/bench_gum_classify.py [--seeds 3] [--data DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ud-gum"
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


def sentences(path: Path) -> list[tuple[str, str]]:
    """(text, genre) of every sentence of a CoNLL-U file."""
    out, genre = [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# sent_id = GUM_"):
            genre = line.split("GUM_", 1)[1].split("_", 1)[0]
        elif line.startswith("# text = "):
            out.append((line[len("# text = ") :], genre))
    return out


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        w.writerows(rows)
    return path


def seqlab(*args) -> float:
    """Run a seqlab command; its wall-clock seconds."""
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "seqlab", *map(str, args)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def tfidf(train, test) -> tuple[float, float, float]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.pipeline import make_pipeline

    start = time.perf_counter()
    clf = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
        LogisticRegression(max_iter=2000, C=10.0),
    )
    clf.fit([t for t, _ in train], [g for _, g in train])
    pred = clf.predict([t for t, _ in test])
    true = [g for _, g in test]
    seconds = time.perf_counter() - start
    return accuracy_score(true, pred), f1_score(true, pred, average="macro"), seconds


def fmt(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--lm-epochs", type=int, default=6)
    ap.add_argument("--epochs", type=int, default=10, help="fine-tuning epochs")
    ap.add_argument("--work", type=Path, default=None, help="keep the runs here")
    args = ap.parse_args()
    for split in ("dev", "test"):
        if not (args.data / f"en_gum-ud-{split}.conllu").is_file():
            sys.exit(f"{args.data}: no en_gum-ud-{split}.conllu (see its README)")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    work = args.work or Path(tempfile.mkdtemp(prefix="gum-classify-"))
    work.mkdir(parents=True, exist_ok=True)

    dev = sentences(args.data / "en_gum-ud-dev.conllu")
    test = sentences(args.data / "en_gum-ud-test.conllu")
    rows = dev[:]
    random.Random(0).shuffle(rows)
    n_valid = len(rows) // 10
    train, valid = rows[n_valid:], rows[:n_valid]
    files = {
        n: write_csv(work / f"{n}.csv", r)
        for n, r in (("train", train), ("valid", valid), ("test", test))
    }
    (work / "dev.txt").write_text("".join(t + "\n" for t, _ in dev), encoding="utf-8")
    print(
        f"GUM: {len(train)} train / {len(valid)} valid sentences (dev), {len(test)} test; "
        f"{len({g for _, g in dev})} genres; runs in {work}",
        flush=True,
    )

    lm_seconds = seqlab(
        "pretrain",
        work / "dev.txt",
        "--doc-per-line",
        *LM,
        "--epochs",
        args.lm_epochs,
        "--cache-dir",
        work / "cache",
        "--out",
        work / "lm",
    )
    lm_metrics = list(csv.DictReader(open(work / "lm" / "metrics.csv")))[-1]
    print(
        f"LM pretrained in {lm_seconds:.0f} s: valid perplexity "
        f"{float(lm_metrics['perplexity']):.1f}, accuracy {float(lm_metrics['accuracy']):.3f}",
        flush=True,
    )

    data_args = ["--train", files["train"], "--valid", files["valid"], "--test", files["test"]]
    results: dict[str, dict[str, list[float]]] = {}
    methods = (
        ("pretrained (ULMFiT)", "pretrained", []),
        ("pretrained, plain fine-tuning", "plain", ["--no-unfreeze", "--no-discriminative"]),
        ("from scratch", "scratch", ["--from-scratch"]),
    )
    for name, tag, extra in methods:
        res = results.setdefault(name, {"accuracy": [], "macro_f1": [], "seconds": []})
        for seed in range(1, args.seeds + 1):
            out = work / f"{tag}-{seed}"
            seconds = seqlab(
                "finetune",
                "classify",
                "--encoder",
                work / "lm",
                *extra,
                *data_args,
                "--epochs",
                args.epochs,
                "--seed",
                seed,
                "--out",
                out,
            )
            r = json.loads((out / "scores.json").read_text())["metrics"]
            res["accuracy"].append(r["accuracy"])
            res["macro_f1"].append(r["macro_f1"])
            res["seconds"].append(seconds)
            print(
                f"  {name} seed {seed}: accuracy {r['accuracy']:.3f} macro-F1 "
                f"{r['macro_f1']:.3f} ({seconds:.0f} s)",
                flush=True,
            )
    acc, f1, seconds = tfidf(train, test)
    results["TF-IDF + logistic regression"] = {
        "accuracy": [acc],
        "macro_f1": [f1],
        "seconds": [seconds],
    }

    print("\n| method | accuracy | macro-F1 | seconds |\n|---|---|---|---|")
    for name, r in results.items():
        secs = f"{statistics.mean(r['seconds']):.0f}"
        if name.startswith("pretrained"):  # the LM is pretrained once, for both rows
            secs += f" (+ {lm_seconds:.0f} pretraining)"
        print(f"| {name} | {fmt(r['accuracy'])} | {fmt(r['macro_f1'])} | {secs} |")
    top = statistics.mode([g for _, g in train])
    true = [g for _, g in test]
    share = sum(g == top for g in true) / len(true)
    from sklearn.metrics import f1_score

    f1_top = f1_score(true, [top] * len(true), average="macro")
    print(f"| majority class ({top}) | {share:.3f} | {f1_top:.3f} | 0 |")


if __name__ == "__main__":
    main()
