"""Character LMs: `seqlab pretrain --level char` against flair's LanguageModelTrainer, one run.

A benchmark script, not part of the pytest suite (it needs ../shared/data/english-text and the
peers' virtual environment that bench_peers_tag.py makes; flair is never a seqlab dependency).
Both tools get the same text, model size (one LSTM layer of --hidden, --emb-size character
embeddings), batch size and sequence length, on one CPU thread each.

1. Throughput, alternated: --rounds times, a seqlab probe then a flair probe, each in its own
   process, each timing --probe-cpu-s CPU seconds of its tool's own training step after three
   untimed ones: seqlab's Trainer (its BPTTStream batches, forward, loss, backward, clip, AdamW,
   one-cycle step), flair's LanguageModelTrainer batch-loop body (forward, loss, backward,
   clip, SGD step). Characters per CPU second, and seqlab / flair per round.
2. Quality at equal time: the whole `seqlab pretrain TEXT --level char ...` command (its
   defaults but the size flags above, --seqlab-epochs), timed in CPU seconds; then flair's
   trainer (peers/flair_lm.py: SGD lr 20, annealing, flair's own recipe) stopped after the same
   CPU seconds. Both score bits per character on the same held-out characters: seqlab's valid
   split (the last 5% of english-text); flair trains on exactly seqlab's training characters.

    nice -n 10 python benchmarks/bench_char_lm.py                 # ~15 CPU min at hidden 256
    nice -n 10 python benchmarks/bench_char_lm.py --hidden 512 --seqlab-epochs 3   # ~50 CPU min

The table goes to --out (default benchmarks/results/char_lm.md) and the figures to its .json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEXT = HERE.parent.parent / "shared" / "data" / "english-text"
PEERS_VENV = Path.home() / ".cache" / "seqlab-bench" / "peers-venv"
THREADS = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def seqlab_config(args) -> dict:
    """The run config `seqlab pretrain TEXT --level char <size flags>` would write."""
    from seqlab_lm import textdata
    from seqlab_lm.data import corpus_of
    from seqlab_lm.settings import PretrainSettings

    settings = PretrainSettings.for_level(
        "char", hidden=args.hidden, emb_size=args.emb_size, bptt=args.bptt, bs=args.bs,
        epochs=args.seqlab_epochs, device="cpu",
    )  # fmt: skip
    text = {
        "glob": True, "valid": (), "cache_dir": args.work / "cache", "doc_per_line": False,
        "max_vocab": 60000, "min_freq": 2, "errors": "strict", "valid_fraction": 0.05,
    }  # fmt: skip
    name, text_config = textdata.resolve((str(args.text / "*.txt"),), text, set(), "char")
    vocab = corpus_of({"corpus": name, "level": "char", "text": text_config}).vocab
    config = settings.to_config(name, len(vocab), vocab.pad_idx)
    config["text"] = text_config
    return config


def write_split_texts(args) -> int:
    """seqlab's train and valid characters as plain text, for flair (special tokens dropped);
    the number of training characters."""
    from seqlab_lm.data import corpus_of

    corpus = corpus_of(seqlab_config(args))
    chars = [c if len(c) == 1 else "" for c in corpus.vocab.itos]
    for split in ("train", "valid"):
        text = "".join("".join(chars[i] for i in doc.tolist()) for doc in corpus.split(split))
        (args.work / f"{split}.txt").write_text(text, encoding="utf-8")
    return sum(len(doc) for doc in corpus.split("train"))


def seqlab_probe(args) -> dict:
    """Characters per CPU second of seqlab's Trainer, stopped after --probe-cpu-s."""
    import torch

    from seqlab import TrainConfig, Trainer
    from seqlab.train.runlog import RunLog
    from seqlab_lm.data import build_data
    from seqlab_lm.training import build_model

    class Stop(Exception):
        pass

    torch.set_num_threads(1)
    config = seqlab_config(args)
    clock = {"steps": -3, "start": 0.0, "chars": 0}
    chars_per_batch = config["data"]["bs"] * config["data"]["bptt"]

    def budget(trainer, event: str, step: int) -> None:
        if event != "step_end":
            return
        clock["steps"] += 1
        if clock["steps"] == 0:
            clock["start"] = time.process_time()
        elif clock["steps"] > 0:
            clock["chars"] += chars_per_batch
            if time.process_time() - clock["start"] >= args.probe_cpu_s:
                raise Stop

    config["data"]["random_bptt"] = False  # every batch is bs x bptt characters
    train, valid, _ = build_data(config)
    model = build_model(config)
    cfg = TrainConfig(**config["train"])
    trainer = Trainer(model, train, valid, cfg, callbacks=[budget], log=RunLog(quiet=True))
    try:
        trainer.fit()
    except Stop:
        pass
    seconds = time.process_time() - clock["start"]
    return {"steps": clock["steps"], "cpu_s": seconds, "chars_per_s": clock["chars"] / seconds}


def run(cmd: list[str], log: Path) -> tuple[float, dict]:
    """(CPU seconds, RESULT fields) of a one-thread child process; its output goes to `log`."""
    before = os.times()
    with log.open("w") as f:
        proc = subprocess.run(
            cmd, stdout=f, stderr=subprocess.STDOUT, env={**os.environ, **THREADS}
        )
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    if proc.returncode != 0:
        raise SystemExit(f"failed (exit {proc.returncode}): {' '.join(cmd)}; see {log}")
    lines = [ln for ln in log.read_text().splitlines() if ln.startswith("RESULT ")]
    return cpu, json.loads(lines[-1][7:]) if lines else {}


def size_flags(args) -> list[str]:
    return ["--hidden", str(args.hidden), "--emb-size", str(args.emb_size), "--bs", str(args.bs)]


def flair_cmd(args, *extra: str) -> list[str]:
    script = str(HERE / "peers" / "flair_lm.py")
    flags = size_flags(args) + [
        "--seq-len",
        str(args.bptt),
        "--valid-text",
        str(args.work / "valid.txt"),
    ]
    return [
        str(args.peers_venv / "bin" / "python"),
        script,
        str(args.work / "train.txt"),
        *flags,
        *extra,
    ]


def throughput(args) -> list[dict]:
    rounds = []
    me = [sys.executable, __file__, "--internal", "probe", *sys.argv[1:]]
    for r in range(args.rounds):
        _, mine = run(me, args.work / f"probe-seqlab-{r}.log")
        _, theirs = run(
            flair_cmd(
                args,
                "--out",
                str(args.work / "probe-flair"),
                "--probe-cpu-s",
                str(args.probe_cpu_s),
            ),
            args.work / f"probe-flair-{r}.log",
        )
        row = {"round": r, "seqlab": mine["chars_per_s"], "flair": theirs["chars_per_s"]}
        row["ratio"] = row["seqlab"] / row["flair"]
        print(f"round {r}: seqlab {row['seqlab']:,.0f} chars/s, flair {row['flair']:,.0f}, "
              f"ratio {row['ratio']:.2f}", flush=True)  # fmt: skip
        rounds.append(row)
    return rounds


def equal_time(args, train_chars: int) -> dict:
    out = args.work / "seqlab-run"
    cmd = [
        sys.executable, "-m", "seqlab", "pretrain", str(args.text / "*.txt"), "--glob",
        "--level", "char", *size_flags(args), "--bptt", str(args.bptt),
        "--epochs", str(args.seqlab_epochs), "--device", "cpu",
        "--cache-dir", str(args.work / "cache"), "--out", str(out),
    ]  # fmt: skip
    if out.exists():
        subprocess.run(["rm", "-rf", str(out)], check=True)
    seqlab_cpu, _ = run(cmd, args.work / "seqlab-run.log")
    rows = (out / "metrics.csv").read_text().splitlines()
    header = rows[0].split(",")
    seqlab_bpc = min(float(r.split(",")[header.index("bpc")]) for r in rows[1:])
    print(f"seqlab: {seqlab_cpu:.0f} CPU s, valid bpc {seqlab_bpc:.3f}", flush=True)
    flair_out = args.work / "flair-run"
    if flair_out.exists():
        subprocess.run(["rm", "-rf", str(flair_out)], check=True)
    _, theirs = run(
        flair_cmd(args, "--out", str(flair_out), "--budget-cpu-s", str(seqlab_cpu),
                  "--eval-text", str(args.work / "valid.txt")),
        args.work / "flair-run.log",
    )  # fmt: skip
    print(f"flair: {theirs['lm_cpu_s']:.0f} CPU s, valid bpc {theirs['eval_bpc']:.3f}", flush=True)
    return {
        "seqlab_cpu_s": seqlab_cpu, "seqlab_bpc": seqlab_bpc, "seqlab_cmd": " ".join(cmd),
        "seqlab_chars_trained": train_chars * args.seqlab_epochs,
        "flair_cpu_s": theirs["lm_cpu_s"], "flair_bpc": theirs["eval_bpc"],
        "flair_chars_trained": theirs["chars_trained"], "flair_splits": theirs["splits_done"],
    }  # fmt: skip


def table(args, rounds: list[dict], quality: dict | None) -> str:
    def mean_sd(key: str) -> str:
        xs = [r[key] for r in rounds]
        sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
        return (
            f"{statistics.mean(xs):,.0f} ± {sd:,.0f}"
            if key != "ratio"
            else f"{statistics.mean(xs):.2f} ± {sd:.2f}"
        )

    lines = [
        f"Character LMs on english-text: one LSTM layer of {args.hidden}, {args.emb_size}-d "
        f"character embeddings, batches of {args.bs} x {args.bptt} characters, one thread "
        f"(`{' '.join(['python benchmarks/bench_char_lm.py', *sys.argv[1:]])}`).",
        "",
        f"Training throughput, {args.rounds} alternated rounds of {args.probe_cpu_s:g} CPU s each:",
        "",
        "| | seqlab | flair | seqlab / flair |",
        "|---|---|---|---|",
        f"| characters / CPU s | {mean_sd('seqlab')} | {mean_sd('flair')} | {mean_sd('ratio')} |",
    ]
    if quality:

        def row(name: str, tool: str) -> str:
            cpu, chars = quality[f"{tool}_cpu_s"], quality[f"{tool}_chars_trained"]
            bpc = quality[f"{tool}_bpc"]
            return f"| {name} | {cpu:.0f} | {chars:,} | {chars / cpu:,.0f} | {bpc:.3f} |"

        lines += [
            "",
            "Bits per character on seqlab's valid split at equal CPU time:",
            "",
            "| | CPU s | characters trained | per CPU s, whole run | valid bpc |",
            "|---|---|---|---|---|",
            row(f"seqlab pretrain --level char, {args.seqlab_epochs} epoch(s)", "seqlab"),
            row("flair LanguageModelTrainer, same CPU s", "flair"),
            "",
            "A whole run's characters per CPU second count everything the command does (reading "
            "the cache, validation, checkpoints); flair's trainer validates after each of its "
            f"splits ({quality['flair_splits']} here), seqlab after each epoch.",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--text", type=Path, default=TEXT, help="folder of *.txt files")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--emb-size", type=int, default=32)
    ap.add_argument("--bptt", type=int, default=100, help="sequence length")
    ap.add_argument("--bs", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--probe-cpu-s", type=float, default=30.0)
    ap.add_argument("--seqlab-epochs", type=int, default=1)
    ap.add_argument("--skip-equal-time", action="store_true", help="throughput only")
    ap.add_argument(
        "--peers-venv", type=Path, default=PEERS_VENV, help="made by bench_peers_tag.py"
    )
    ap.add_argument(
        "--work", type=Path, default=Path.home() / ".cache" / "seqlab-bench" / "char-lm"
    )
    ap.add_argument("--out", type=Path, default=HERE / "results" / "char_lm.md")
    ap.add_argument("--internal", choices=("probe",), help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.internal == "probe":
        print("RESULT " + json.dumps(seqlab_probe(args)), flush=True)
        return
    if not (args.peers_venv / "bin" / "python").exists():
        raise SystemExit(f"no peers venv at {args.peers_venv}: run bench_peers_tag.py once first")
    train_chars = write_split_texts(args)
    rounds = throughput(args)
    quality = None if args.skip_equal_time else equal_time(args, train_chars)
    args.out.write_text(table(args, rounds, quality))
    args.out.with_suffix(".json").write_text(
        json.dumps({"argv": sys.argv[1:], "rounds": rounds, "equal_time": quality}, indent=1)
    )
    print(args.out.read_text())


if __name__ == "__main__":
    main()
