"""Framework overhead: the seqlab Trainer vs a hand-written minimal PyTorch loop.

Both train the same model on the same data with the same seed and schedule (one-cycle
AdamW, clipping, state reset per epoch, an evaluation per epoch); they run alternately in
one process, so machine noise hits both alike. Printed: tokens/s of each and their ratio
(target >= 0.9, i.e. at most 10% overhead), and batches/s of BPTTStream alone.

    python benchmarks/bench_train.py [--rounds 3] [--epochs 2] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from seqlab import (
    BPTTStream,
    EncoderConfig,
    SeqModel,
    StatefulEncoder,
    TrainConfig,
    Trainer,
    registry,
    seed_everything,
)
from seqlab.train.runlog import RunLog
from seqlab_lm.head import LMHead

SEED, BS, BPTT, LR = 42, 64, 70, 3e-3


def data():
    corpus = registry.corpus("human-numbers")
    train = BPTTStream(corpus.split("train"), BS, BPTT, random_bptt=True, shuffle=True, seed=SEED)
    valid = BPTTStream(corpus.split("valid"), BS, BPTT)
    return corpus, train, valid


def model(vocab_size: int) -> SeqModel:
    seed_everything(SEED)
    enc = StatefulEncoder(EncoderConfig(vocab_size, hidden=128, layers=2, cell="lstm", emb_size=64))
    return SeqModel(enc, LMHead(enc))


def minimal_loop(epochs: int, run_dir: Path | None = None) -> None:
    """What a user would write by hand (pytorch/examples style)."""
    corpus, train, valid = data()
    m = model(len(corpus.vocab))
    opt = torch.optim.AdamW(m.parameters(), lr=LR, weight_decay=0.01, betas=(0.9, 0.99))
    steps = 0
    for e in range(epochs):
        train.set_epoch(e)
        steps += len(train)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, LR, total_steps=steps, pct_start=0.25)
    for epoch in range(epochs):
        m.train()
        m.reset()
        train.set_epoch(epoch)
        for x, y in train:
            loss = nn.functional.cross_entropy(m(x).flatten(0, 1), y.flatten())
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(m.parameters(), 0.5)
            opt.step()
            if sched.last_epoch < steps - 1:
                sched.step()
        m.eval()
        m.reset()
        with torch.no_grad():
            for x, y in valid:
                nn.functional.cross_entropy(m(x).flatten(0, 1), y.flatten())


def seqlab_trainer(epochs: int, run_dir: Path | None) -> None:
    corpus, train, valid = data()
    config = TrainConfig(epochs=epochs, lr=LR, seed=SEED, device="cpu")
    # quiet: no table, but metrics.csv and curves.png are still written to a run dir
    log = RunLog(quiet=True)
    trainer = Trainer(model(len(corpus.vocab)), train, valid, config, run_dir=run_dir, log=log)
    trainer.fit()


def tokens_per_run(epochs: int) -> int:
    _, train, _ = data()
    total = 0
    for e in range(epochs):
        train.set_epoch(e)
        total += sum(x.numel() for x, _ in train)
    return total


def seconds(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def stream_batches_per_s(repeats: int = 20) -> float:
    _, train, _ = data()
    start, n = time.perf_counter(), 0
    for e in range(repeats):
        train.set_epoch(e)
        for _ in train:
            n += 1
    return n / (time.perf_counter() - start)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.rounds} rounds "
        f"of {args.epochs} epochs, LSTM 2x128, bs {BS}, bptt {BPTT}"
    )
    tokens = tokens_per_run(args.epochs)
    runs = {
        "minimal loop": minimal_loop,
        "Trainer (no run dir)": seqlab_trainer,
        "Trainer (run dir: csv, png, ckpt)": seqlab_trainer,
    }
    rows: dict[str, list[float]] = {name: [] for name in runs}
    minimal_loop(1)  # warm-up: first-call costs (allocator, lazy init) are no one's overhead
    for _ in range(args.rounds):  # alternate, so noise hits every contender alike
        for name, fn in runs.items():
            with tempfile.TemporaryDirectory() as tmp:
                run_dir = Path(tmp) if "run dir:" in name else None
                rows[name].append(tokens / seconds(fn, args.epochs, run_dir))
    base = statistics.median(rows["minimal loop"])
    print(f"{'':36}{'tokens/s (median)':>18}{'ratio':>8}")
    for name, values in rows.items():
        med = statistics.median(values)
        print(f"{name:36}{med:18,.0f}{med / base:8.2f}")
    print(f"BPTTStream alone: {stream_batches_per_s():,.0f} batches/s (bs {BS}, bptt {BPTT})")


if __name__ == "__main__":
    main()
