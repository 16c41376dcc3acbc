"""Choose the tagger's defaults for named entities on dev data: never on a test split.

Each corpus's dev split is cut in two: its first part picks each run's checkpoint (--valid, as
the user's dev file would), its second part, never seen in training or choosing, is scored
(--test). WNUT17: dev halves (505 / 504 sentences); WikiANN-en-5k: the first 5,000 training
sentences, dev sentences 1-2,000 to pick and 2,001-4,000 to score. Prints span F1 per corpus,
seed and config, then each config's mean.

Each --config is NAME=ARGS: `seqlab finetune tag` arguments added to the default command
(an empty ARGS is the default itself).

    OMP_NUM_THREADS=1 python benchmarks/tune_ner.py --jobs 2 --config 'default=' \\
        --config 'wd15=--word-drop 0.15'
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_peers_ner import NER, blocks, write_conll  # noqa: E402
from common.proc import THREADS, run, seqlab_cmd  # noqa: E402

# corpus: (folder, training sentences (None: all), dev sentences that pick, dev sentences scored)
CUTS = {"wnut17": ("wnut17", None, 505, 504), "wikiann-en-5k": ("wikiann-en", 5000, 2000, 2000)}


def files(name: str, work: Path) -> dict[str, Path]:
    folder, n_train, n_pick, n_score = CUTS[name]
    train = blocks(NER / folder / "train.conll")[:n_train]
    dev = blocks(NER / folder / "dev.conll")
    return {
        "train": write_conll(work / f"{name}.train.conll", train),
        "valid": write_conll(work / f"{name}.dev-pick.conll", dev[:n_pick]),
        "test": write_conll(work / f"{name}.dev-score.conll", dev[n_pick : n_pick + n_score]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=Path.home() / ".cache/seqlab-bench/tune-ner")
    ap.add_argument("--config", action="append", required=True, help="NAME=ARGS (repeatable)")
    ap.add_argument("--corpora", default=",".join(CUTS))
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=1)
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    corpora = args.corpora.split(",")
    data = {c: files(c, args.work) for c in corpora}
    configs = dict(c.split("=", 1) for c in args.config)
    env = {**os.environ, **THREADS, "SEQLAB_THREADS": "1"}

    def one(job: tuple[str, str, int]) -> dict:
        name, corpus, seed = job
        out = args.work / f"{name}-{corpus}-{seed}"
        f = data[corpus]
        cmd = ["finetune", "tag", "--train", f["train"], "--valid", f["valid"], "--test",
               f["test"], "--seed", seed, "--out", out, "--overwrite", "--quiet",
               *configs[name].split()]  # fmt: skip
        cmd = seqlab_cmd([str(c) for c in cmd])
        stamp = out.with_suffix(".json")  # a finished run of the same command is reused
        before = json.loads(stamp.read_text()) if stamp.is_file() else {}
        if before.get("cmd") == cmd:
            r = before["result"]
            print(f"  {name} {corpus} seed {seed}: F1 {r['f1']:.4f} (reused)", flush=True)
            return r
        rc, cpu, text = run(cmd, out.with_suffix(".log"), env)
        if rc != 0:
            sys.exit(f"{name} on {corpus} failed:\n{text[-2000:]}")
        got = json.loads((out / "scores.json").read_text())["metrics"]
        r = {"config": name, "args": configs[name], "corpus": corpus, "seed": seed, "cpu_s": cpu}
        r |= {m: got[m] for m in ("f1", "precision", "recall")}
        stamp.write_text(json.dumps({"cmd": cmd, "result": r}))
        print(f"  {name} {corpus} seed {seed}: F1 {r['f1']:.4f} ({cpu:.0f} CPU s)", flush=True)
        return r

    jobs = [(n, c, s) for n in configs for s in range(1, args.seeds + 1) for c in corpora]
    with ThreadPoolExecutor(args.jobs) as pool:
        done = list(pool.map(one, jobs))
    head = " | ".join(f"{c} dev F1" for c in corpora)
    print(f"\n| config | {head} | mean | train CPU s |\n|---|{'---|' * len(corpora)}---|---|")
    for name in configs:
        f1s = [statistics.mean(r["f1"] for r in done if r["config"] == name and r["corpus"] == c)
               for c in corpora]  # fmt: skip
        cpus = [r["cpu_s"] for r in done if r["config"] == name and r["cpu_s"] is not None]
        cpu = f"{statistics.mean(cpus):.0f}" if cpus else "—"  # None: not measured
        cells = " | ".join(f"{f:.4f}" for f in f1s)
        print(f"| {name} | {cells} | {statistics.mean(f1s):.4f} | {cpu} |")


if __name__ == "__main__":
    main()
