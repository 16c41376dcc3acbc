"""Genre of GUM sentences: ULMFiT's three stages against TF-IDF, spaCy and no pretraining.

Data: ../shared/data/ud-gum (UD English GUM, CC BY-NC-SA 4.0); a sentence's genre (15 of them)
is in its sent_id. Train on the dev split, a seeded 90% (the other 10% picks checkpoints),
report on the test split (other documents). Settings were chosen by tune_gum_classify.py on
held-out *documents* of the dev split, never on test. The LMs read
../shared/data/english-text (0.92M words; no GUM text). Every seqlab step is a command line
as a user types it:

  (a) seqlab pretrain 'english-text/*.txt' --glob --max-vocab 15000 --epochs 3 [--backward]
      seqlab pretrain 'english-text/*.txt' --glob --level char [--backward]     (char LMs)
  (b) seqlab pretrain train.csv --text-col text --init LM_A --epochs 10 [--backward]
  (c) seqlab finetune classify --encoder LM_B (or --backward-encoder LM_B) --train ...
      seqlab finetune classify --encoder FWD --backward-encoder BWD --freeze-encoder ...
      seqlab predict RUN RUN test.csv --format csv --json                (the ensembles)

Rows: majority class; TF-IDF + logistic regression (word 1-2-grams; char 2-5-grams);
fastText supervised (the `fasttext` binding, peers/fasttext_textcat.py: word 1-2 and char
2-5-grams, and its autotune on the held-out sentences); spaCy 3 textcat, bow and ensemble
(fastText and spaCy in the peers' venv, see bench_peers_tag.py; a message instead of a row
when one cannot be installed); then SEQLAB_ROWS and ENSEMBLES below: the seqlab default (no
flags: the n-gram regression, no LM; its throughput on the test texts x20 is
printed under the table); seqlab from scratch
(the LM's architecture, fresh weights); (a) only; (a)+(b) forward; (a)+(b) backward; the
(a)+(b) LMs of both directions as one frozen stack; the char LMs likewise; ensembles.
Columns: test accuracy and macro-F1 (mean ± sd over seeds), train CPU seconds (the training
process's own, from wait4; seqlab's includes process start and scoring --test; the LMs' are
shown apart, each trained once and shared by rows and seeds), predict texts per CPU second
(seqlab: the whole `seqlab predict` process, model loading included).

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/bench_gum_classify.py [--seeds 3]
        [--work DIR] [--jobs 2] [--rows majority,tfidf,spacy,scratch,a,ab,...]

The LMs are kept in --work (default ~/.cache/seqlab-bench/gum-classify) and reused when the
same command finished there before, on the same input files. Writes
benchmarks/results/gum_classify.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common.genre import Bench, fasttext_ready, lms_of, scores, sentences, tfidf, write_csv  # noqa: E402
from common.peers import Peers  # noqa: E402  (the peers' venv)
from common.proc import RowError  # noqa: E402
from common.tables import hold_out, mean_sd  # noqa: E402

DATA = HERE.parents[1] / "shared" / "data"
WORK = Path.home() / ".cache" / "seqlab-bench" / "gum-classify"
# seqlab rows: key -> (name, `finetune classify` options; an LM's name stands for its run)
SEQLAB_ROWS = {
    "default": ("seqlab default (no flags: the n-gram regression, no LM)", []),
    "scratch": (
        "seqlab from scratch (same architecture)",
        ["--encoder", "lm-a-fwd", "--from-scratch"],
    ),
    "a": ("seqlab (a) general LM only", ["--encoder", "lm-a-fwd"]),
    "ab": ("seqlab (a)+(b) forward", ["--encoder", "lm-b-fwd"]),
    "ab-bwd": ("seqlab (a)+(b) backward", ["--backward-encoder", "lm-b-bwd"]),
    "ab-stack": (
        "seqlab (a)+(b) forward and backward, one frozen stack",
        ["--encoder", "lm-b-fwd", "--backward-encoder", "lm-b-bwd", "--freeze-encoder"],
    ),
    "char-stack": (
        "seqlab char LMs forward and backward, one frozen stack",
        ["--encoder", "lm-char-fwd", "--backward-encoder", "lm-char-bwd", "--freeze-encoder"],
    ),
    "english-stack": (  # the shipped pair (plugins/seqlab_english): nothing to pretrain
        "seqlab + english (shipped char LMs) forward and backward, one frozen stack",
        ["--encoder", "english", "--backward-encoder", "english", "--freeze-encoder"],
    ),
}
# ensembles: `seqlab predict RUN RUN` on the same seed's runs of these rows
ENSEMBLES = {
    "ab-ens": ("ab", "ab-bwd"),
    "all-ens": ("ab", "ab-bwd", "char-stack"),
    "default-english": ("default", "english-stack"),
}
ROWS = ("majority", "tfidf", "fasttext", "spacy", *SEQLAB_ROWS, *ENSEMBLES)
# fastText's rows: (name, peers/fasttext_textcat.py --mode)
FASTTEXT = {
    "ngrams": "fastText supervised (word 1-2 + char 2-5-grams, 25 epochs)",
    "autotune": "fastText supervised, autotuned on the held-out sentences",
}
REPEAT = 20  # the default row's throughput: its predict on the test texts this many times


def table(results: dict[str, list[dict]], notes: dict[str, str], lm_cpu: dict) -> str:
    lines = [
        "| method | accuracy | macro-F1 | train CPU s | LM CPU s (once) | predict texts/s |",
        "|---|---|---|---|---|---|",
    ]
    for name, seeds in results.items():
        if not seeds:
            lines.append(f"| {name} | {notes.get(name, 'not run')} | | | | |")
            continue
        cells = [mean_sd([s[k] for s in seeds], 3) for k in ("accuracy", "macro_f1")]
        cells.append(f"{statistics.mean(s['train_cpu_s'] for s in seeds):.0f}")
        lms = seeds[0].get("lms", [])
        cells.append(" + ".join(f"{lm_cpu[lm]:.0f}" for lm in lms) if lms else "")
        speed = statistics.mean(s["texts_per_s"] for s in seeds)
        cells.append(f"{speed:,.0f}" if math.isfinite(speed) else "")  # majority: no model
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--work", type=Path, default=WORK)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--rows", default=",".join(ROWS))
    ap.add_argument("--lm-epochs", type=int, default=3, help="stage (a) epochs")
    ap.add_argument("--lm-max-vocab", type=int, default=15000)
    ap.add_argument("--tune-epochs", type=int, default=10, help="stage (b) epochs")
    ap.add_argument("--epochs", type=int, help="classifier epochs [default: the command's]")
    ap.add_argument("--spacy-max-steps", type=int, default=4000)
    ap.add_argument("--fasttext-autotune-s", type=int, default=60, help="fastText autotune time")
    ap.add_argument("--jobs", type=int, default=1, help="seqlab classifiers run at once")
    ap.add_argument("--peers-venv", type=Path, default=WORK.parent / "peers-venv")
    ap.add_argument("--peers-torch", default="torch==2.13.0", help="pip spec of CPU torch")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "gum_classify.md")
    args = ap.parse_args()
    rows = args.rows.split(",")
    gum = args.data / "ud-gum"
    for split in ("dev", "test"):
        if not (gum / f"en_gum-ud-{split}.conllu").is_file():
            sys.exit(f"{gum}: no en_gum-ud-{split}.conllu (see its README)")
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    bench = Bench(args, work)

    dev = sentences(gum / "en_gum-ud-dev.conllu")
    test = sentences(gum / "en_gum-ud-test.conllu")
    train, valid = hold_out(dev)
    files = {
        n: write_csv(work / f"{n}.csv", r)
        for n, r in (("train", train), ("valid", valid), ("test", test))
    }
    true = [g for _, g in test]
    print(
        f"GUM genre: {len(train)} train / {len(valid)} held-out sentences (dev), {len(test)} "
        f"test; {len({g for _, g in dev})} genres; work dir {work}",
        flush=True,
    )

    results: dict[str, list[dict]] = {}
    notes: dict[str, str] = {}
    if "majority" in rows:
        top = statistics.mode([g for _, g in train])
        results[f"majority class ({top})"] = [
            {**scores(true, [top] * len(true)), "train_cpu_s": 0.0, "texts_per_s": float("inf")}
        ]
    if "tfidf" in rows:
        results["TF-IDF word 1-2-grams + LR"] = [tfidf("word", (1, 2), train, test)]
        results["TF-IDF char 2-5-grams + LR"] = [tfidf("char_wb", (2, 5), train, test)]

    peers = Peers(args, work / "logs")

    def peer_seed(script: str, tag: str, seed: int, options: list) -> dict:
        """One seed of a peer classifier (peers/SCRIPT in the peers' venv): its test scores,
        train CPU s and predict texts/s, and the settings it reports."""
        pred = work / "runs" / f"{tag}-{seed}.txt"
        res, _ = peers.script(
            script,
            ["--train", files["train"], "--dev", files["valid"], "--test", files["test"],
             "--pred", pred, "--seed", seed, *options],
            work / "logs" / f"{tag}-{seed}.log",
        )  # fmt: skip
        got = {
            **scores(true, pred.read_text(encoding="utf-8").split()),
            "train_cpu_s": res["train_cpu_s"],
            "texts_per_s": res["predict_texts"] / max(res["predict_cpu_s"], 1e-9),
        }
        return {**got, "args": res["args"]} if "args" in res else got

    def spacy_rows() -> None:
        """spaCy's two textcat architectures, 3 seeds each: beside the seqlab rows (its own
        process, so its CPU seconds are its own)."""
        for arch in ("bow", "ensemble"):
            name = f"spaCy 3 textcat ({arch})"
            results[name] = []
            try:
                peers.need("spacy")
                for seed in range(1, args.seeds + 1):
                    options = ["--work", work / "runs" / f"spacy-{arch}-{seed}", "--arch", arch]
                    options += ["--max-steps", args.spacy_max_steps]
                    results[name].append(
                        peer_seed("spacy_textcat.py", f"spacy-{arch}", seed, options)
                    )
                    print(f"  {name} seed {seed}: {results[name][-1]}", flush=True)
            except RowError as e:
                notes[name] = str(e)

    if "fasttext" in rows:
        for mode, name in FASTTEXT.items():
            results[name] = []
            try:
                fasttext_ready(peers, work / "logs")
                for seed in range(1, args.seeds + 1):
                    options = ["--work", work / "runs" / f"fasttext-{mode}", "--mode", mode]
                    options += ["--autotune-seconds", args.fasttext_autotune_s]
                    results[name].append(
                        peer_seed("fasttext_textcat.py", f"fasttext-{mode}", seed, options)
                    )
                    print(f"  {name} seed {seed}: {results[name][-1]}", flush=True)
            except RowError as e:
                notes[name] = str(e)

    spacy = ThreadPoolExecutor(1).submit(spacy_rows) if "spacy" in rows else None
    if spacy is not None:  # its rows come before seqlab's in the table
        results |= {f"spaCy 3 textcat ({arch})": [] for arch in ("bow", "ensemble")}

    text = sorted(str(p) for p in (args.data / "english-text").glob("*.txt"))
    need = [r for r in rows if r in SEQLAB_ROWS or r in ENSEMBLES]
    parts = {k for r in need for k in ENSEMBLES.get(r, (r,))}
    keys = [k for k in SEQLAB_ROWS if k in parts]
    wanted = {lm for k in keys for lm in lms_of(SEQLAB_ROWS[k][1])}
    lms = {name: work / name for name in wanted}
    lm_a = ["pretrain", *text, "--max-vocab", args.lm_max_vocab, "--epochs", args.lm_epochs]
    lm_a += ["--seed", 1, "--cache-dir", work / "cache"]
    lm_char = ["pretrain", *text, "--level", "char", "--cache-dir", work / "cache"]

    def chain(d: str) -> None:
        """One direction's LMs in order: word (a), (b) on it; or a char LM."""
        back = ["--backward"] if d.endswith("bwd") else []
        if d.startswith("char"):
            bench.lm(f"lm-{d}", [*lm_char, *back])
            return
        bench.lm(f"lm-a-{d}", [*lm_a, *back])
        if f"lm-b-{d}" in wanted:
            bench.lm(
                f"lm-b-{d}",
                ["pretrain", files["train"], "--text-col", "text", "--init", lms[f"lm-a-{d}"],
                 "--epochs", args.tune_epochs, "--seed", 1, "--cache-dir", work / "cache", *back],
            )  # fmt: skip

    chains = sorted({lm.removeprefix("lm-").removeprefix("a-").removeprefix("b-") for lm in wanted})
    with ThreadPoolExecutor(max(1, min(args.jobs, len(chains)))) as pool:
        list(pool.map(chain, chains))
    runs: dict[str, dict[int, Path]] = {}

    def one(key: str, seed: int) -> dict:
        name, options = SEQLAB_ROWS[key]
        r = bench.classify(key, [lms.get(o, o) for o in options], files, seed)
        _, r["texts_per_s"] = bench.predict(f"{key}-{seed}", [r["run"]], files["test"])
        r["lms"] = [] if "--from-scratch" in options else lms_of(options)
        print(f"  {name} seed {seed}: {r}", flush=True)
        return r

    todo = [(k, seed) for k in keys for seed in range(1, args.seeds + 1)]
    with ThreadPoolExecutor(args.jobs) as pool:  # CPU seconds are per process: exact anyway
        done = list(pool.map(lambda t: one(*t), todo))
    for (key, seed), r in zip(todo, done, strict=True):
        runs.setdefault(key, {})[seed] = r.pop("run")
        if key in need:
            results.setdefault(SEQLAB_ROWS[key][0], []).append(r)
    by_key = dict(zip(todo, done, strict=True))
    for ens in (r for r in need if r in ENSEMBLES):
        members = ENSEMBLES[ens]
        # "seqlab + english ..." -> "english ...": the members' names without their prefix
        name = " + ".join(
            SEQLAB_ROWS[k][0].removeprefix("seqlab ").removeprefix("+ ") for k in members
        )
        name = f"seqlab ensemble: {name}"
        results[name] = []
        for seed in range(1, args.seeds + 1):
            labels, tps = bench.predict(f"{ens}-{seed}", [runs[k][seed] for k in members],
                                        files["test"])  # fmt: skip
            cpu = sum(by_key[k, seed]["train_cpu_s"] for k in members)  # all members' training
            used = list(dict.fromkeys(lm for k in members for lm in by_key[k, seed]["lms"]))
            results[name].append(
                {**scores(true, labels), "train_cpu_s": cpu, "texts_per_s": tps, "lms": used}
            )
            print(f"  {name} seed {seed}: {results[name][-1]}", flush=True)

    throughput = ""
    if "default" in runs:  # texts per CPU second on many texts: start-up counts once
        many = work / "test-repeated.txt"
        texts = [t.replace("\n", " ") for t, _ in test]
        many.write_text("\n".join(texts * REPEAT) + "\n", encoding="utf-8")
        out = work / "runs" / "default-many.txt"
        cpu = bench.seqlab(
            "predict-default-many", "predict", runs["default"][1], many, "--device", "cpu",
            "--out", out, "--overwrite",
        )  # fmt: skip
        rate = len(texts) * REPEAT / cpu
        throughput = (
            f"seqlab default, `seqlab predict` on the test texts x{REPEAT} "
            f"({len(texts) * REPEAT:,} texts, one thread): {rate:,.0f} texts per CPU s, "
            f"start-up included"
        )
        print(f"  {throughput}", flush=True)
    if spacy is not None:
        spacy.result()
    md = table(results, notes, bench.lm_cpu)
    if throughput:
        md += f"\n\n{throughput}"
    cmdline = "python benchmarks/bench_gum_classify.py " + " ".join(sys.argv[1:])
    print(f"\n{md}\n")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(f"`{cmdline}`\n\n{md}\n", encoding="utf-8")
    plain = {
        name: [{k: v for k, v in s.items() if k != "run"} for s in seeds]
        for name, seeds in results.items()
    }
    info = {"cmdline": cmdline, "lm_cpu_s": bench.lm_cpu, "lm_notes": bench.notes}
    info["throughput"] = throughput
    info |= {"notes": notes, "results": plain}
    args.out.with_suffix(".json").write_text(json.dumps(info, indent=1, default=str))


if __name__ == "__main__":
    main()
