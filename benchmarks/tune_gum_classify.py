"""Choose the GUM genre classifier's settings on held-out *documents* of the training data.

bench_gum_classify.py trains on GUM's dev split and reports on its test split (other
documents). Its held-out 10% of sentences comes from the training documents, so it rewards
memorising their topics: held-out accuracy ~0.45 where test accuracy is ~0.23. Settings are
therefore chosen here, by 2-fold cross-validation over documents: dev has two documents of
each genre; fold 1 trains on the first of each genre and scores on the second, fold 2 the
other way round (each fold's own 10% of sentences picks its checkpoint). The test split is
never read.

Each --config is NAME=ARGS: the `seqlab finetune classify` arguments after the data options;
{a-fwd}, {a-bwd}, {b-fwd}, {b-bwd} (the bench's word LMs; b is refitted on each fold's
training texts, ULMFiT stage (b)) and {char-fwd}, {char-bwd} (char LMs in --work) are filled
in. Prints the mean accuracy and macro-F1 over the folds, and the mean of those over seeds.

    OMP_NUM_THREADS=1 python benchmarks/tune_gum_classify.py --jobs 2 \\
        --config 'word=--encoder {b-fwd}' --config 'char=--encoder {char-fwd}'
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_gum_classify import DATA, WORK  # noqa: E402
from common.genre import Bench, scores, write_csv  # noqa: E402


def documents(path: Path) -> dict[str, list[tuple[str, str]]]:
    """(text, genre) of each sentence, by document id, in file order."""
    by_doc: dict[str, list[tuple[str, str]]] = {}
    doc = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# newdoc id = "):
            doc = line.split("= ", 1)[1]
        elif line.startswith("# text = "):
            by_doc.setdefault(doc, []).append((line[len("# text = ") :], doc.split("_")[1]))
    return by_doc


def folds(path: Path) -> list[tuple[list, list]]:
    """(train, held-out documents) twice: each genre's first and second document swap."""
    by_doc = documents(path)
    genres = sorted({d.split("_")[1] for d in by_doc})
    pairs = [sorted(d for d in by_doc if d.split("_")[1] == g) for g in genres]
    if any(len(p) != 2 for p in pairs):
        sys.exit(f"{path}: expected two documents per genre")
    return [
        ([s for p in pairs for s in by_doc[p[k]]], [s for p in pairs for s in by_doc[p[1 - k]]])
        for k in (0, 1)
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--work", type=Path, default=WORK)
    ap.add_argument("--config", action="append", required=True, help="NAME=ARGS (repeatable)")
    ap.add_argument(
        "--ensemble", action="append", default=[], help="NAME=CONFIG+CONFIG (repeatable)"
    )
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--epochs", type=int, help="classifier epochs [default: the command's]")
    ap.add_argument("--tune-epochs", type=int, default=10, help="stage (b) epochs")
    ap.add_argument("--jobs", type=int, default=1)
    args = ap.parse_args()
    work = args.work
    bench = Bench(args, work / "tune")
    (work / "tune").mkdir(parents=True, exist_ok=True)
    lms = {f"{s}-{d}": work / f"lm-{s}-{d}" for s in ("a", "char") for d in ("fwd", "bwd")}
    configs = dict(c.split("=", 1) for c in args.config)
    files = []
    for k, (train, held) in enumerate(folds(args.data / "ud-gum" / "en_gum-ud-dev.conllu"), 1):
        valid, rest = train[::10], [s for i, s in enumerate(train) if i % 10]
        files.append(
            {
                "train": write_csv(work / "tune" / f"fold{k}-train.csv", rest),
                "valid": write_csv(work / "tune" / f"fold{k}-valid.csv", valid),
                "test": write_csv(work / "tune" / f"fold{k}-held.csv", held),
            }
        )
    needs_b = {d for d in ("fwd", "bwd") if any(f"{{b-{d}}}" in c for c in configs.values())}

    def stage_b(job: tuple[int, str]) -> None:
        k, d = job
        back = ["--backward"] if d == "bwd" else []
        bench.lm(f"lm-b-{d}-fold{k}", ["pretrain", files[k - 1]["train"], "--text-col", "text",
                 "--init", lms[f"a-{d}"], "--epochs", args.tune_epochs, "--seed", 1,
                 "--cache-dir", work / "cache", *back])  # fmt: skip

    todo = [(k, d) for k in (1, 2) for d in sorted(needs_b)]
    with ThreadPoolExecutor(args.jobs) as pool:
        list(pool.map(stage_b, todo))

    def one(job: tuple[str, int, int]) -> dict:
        name, k, seed = job
        fold_lms = {**lms, **{f"b-{d}": work / "tune" / f"lm-b-{d}-fold{k}" for d in needs_b}}
        extra = configs[name].format(**{key: str(p) for key, p in fold_lms.items()}).split()
        r = bench.classify(f"{name}-fold{k}", extra, files[k - 1], seed)
        scores = f"accuracy {r['accuracy']:.3f}, macro-F1 {r['macro_f1']:.3f}"
        print(f"  {name} fold {k} seed {seed}: {scores} ({r['train_cpu_s']:.0f} CPU s)", flush=True)
        return r

    jobs = [(n, k, seed) for n in configs for seed in range(1, args.seeds + 1) for k in (1, 2)]
    with ThreadPoolExecutor(args.jobs) as pool:
        done = dict(zip(jobs, pool.map(one, jobs), strict=True))
    for spec in args.ensemble:  # `seqlab predict RUN RUN` on each fold's held-out documents
        name, members = spec.split("=", 1)
        for k, seed in ((k, seed) for seed in range(1, args.seeds + 1) for k in (1, 2)):
            runs = [done[m, k, seed]["run"] for m in members.split("+")]
            labels, _ = bench.predict(f"{name}-fold{k}-{seed}", runs, files[k - 1]["test"])
            with open(files[k - 1]["test"], encoding="utf-8", newline="") as f:
                true = [row["label"] for row in csv.DictReader(f)]
            cpu = sum(done[m, k, seed]["train_cpu_s"] for m in members.split("+"))
            done[name, k, seed] = {**scores(true, labels), "train_cpu_s": cpu}
            print(f"  {name} fold {k} seed {seed}: accuracy {done[name, k, seed]['accuracy']:.3f}")
        configs[name] = members
        jobs += [(name, k, seed) for seed in range(1, args.seeds + 1) for k in (1, 2)]
    print("\n| config | held-out docs accuracy | macro-F1 | train CPU s |\n|---|---|---|---|")
    for name in configs:
        rs = [done[j] for j in jobs if j[0] == name]
        cells = [statistics.mean(r[m] for r in rs) for m in ("accuracy", "macro_f1")]
        cpu = statistics.mean(r["train_cpu_s"] for r in rs)
        print(f"| {name} | {cells[0]:.3f} | {cells[1]:.3f} | {cpu:.0f} |")
    out = work / "tune" / "results.jsonl"
    with open(out, "a", encoding="utf-8") as f:
        for (name, k, seed), r in done.items():
            record = {"config": name, "args": configs[name], "fold": k, "seed": seed}
            f.write(json.dumps({**record, **{m: r[m] for m in ("accuracy", "macro_f1")}}) + "\n")


if __name__ == "__main__":
    main()
