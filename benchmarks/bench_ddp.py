"""Training throughput, 1 process vs 2 DistributedDataParallel processes on this machine.

The default `seqlab pretrain human-numbers` model (2-layer LSTM, hidden 128, emb 64; bs 64,
bptt 70), a few epochs of its train split, timed over the training steps only (evaluation and
process start left out). The global batch is the same in every row: 2 processes take 32 rows
each and all-reduce their gradients (gloo) after every backward.

  1 proc x 1 thread     the baseline
  1 proc x 2 threads    the same two cores, used by torch's intra-op threads instead
  2 procs x 1 thread    torchrun-style data parallelism (forked here, gloo on loopback)

    python benchmarks/bench_ddp.py [--epochs 4]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import tempfile
import time
from pathlib import Path

import torch
import torch.multiprocessing as mp
from rich.console import Console

from seqlab import BPTTStream, SeqModel, TrainConfig, Trainer, registry
from seqlab.nn.encoder import EncoderConfig, StatefulEncoder
from seqlab.train import distributed
from seqlab_lm.head import LMHead

BS, BPTT = 64, 70


def train(rank: int, world: int, threads: int, port: int, epochs: int, out: str) -> None:
    torch.set_num_threads(threads)
    if world > 1:
        distributed.setup_local(rank, world, port)
    corpus = registry.corpus("human-numbers")
    torch.manual_seed(0)
    encoder = StatefulEncoder(
        EncoderConfig(
            vocab_size=len(corpus.vocab), hidden=128, layers=2, cell="lstm", emb_size=64, pad_idx=1
        )
    )
    model = SeqModel(encoder, LMHead(encoder))
    common = {"bs": BS, "bptt": BPTT, "rank": rank, "world_size": world}
    train_dl = BPTTStream(corpus.split("train"), random_bptt=True, shuffle=True, seed=0, **common)
    valid_dl = BPTTStream(corpus.split("valid")[0][:5000], **common)
    timing = {"seconds": 0.0, "tokens": 0, "start": 0.0}

    def clock(trainer, event, n):
        now = time.perf_counter()
        if event == "epoch_start":
            timing["start"] = now
        elif event == "step_end":
            timing["seconds"] += now - timing["start"]
            timing["start"] = now
        elif event == "epoch_end":  # every position of the global batch's rows, once
            timing["tokens"] += BS * trainer.train_dl.row_len

    trainer = Trainer(
        model,
        train_dl,
        valid_dl,
        TrainConfig(epochs=epochs, device="cpu"),
        console=Console(quiet=True),
        callbacks=[clock],
    )
    trainer.fit()
    if rank == 0:
        Path(out).write_text(json.dumps(timing))
    distributed.teardown()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=4)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for procs, threads in ((1, 1), (1, 2), (2, 1)):
            out = str(Path(tmp) / f"{procs}x{threads}.json")
            a = (procs, threads, free_port(), args.epochs, out)
            if procs == 1:
                train(0, *a)
            else:
                mp.start_processes(train, args=a, nprocs=procs, start_method="spawn")
            t = json.loads(Path(out).read_text())
            rows.append(
                (
                    f"{procs} proc x {threads} thread{'s' if threads > 1 else ''}",
                    t["tokens"] / t["seconds"],
                    t["seconds"],
                )
            )
    print(f"cores: {os.cpu_count()}; {args.epochs} epochs of human-numbers, bs {BS}, bptt {BPTT}")
    print(f"{'':22}{'tokens/s':>12}{'train s':>10}{'vs 1x1':>9}")
    for name, rate, secs in rows:
        print(f"{name:22}{rate:12,.0f}{secs:10.2f}{rate / rows[0][1]:8.2f}x")


if __name__ == "__main__":
    main()
