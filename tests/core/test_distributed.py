"""Two processes (gloo, loopback) train exactly as one process with the same global batch."""

import os
import socket

import numpy as np
import torch
import torch.multiprocessing as mp
from conftest import TinyLMHead
from rich.console import Console
from torch import nn

from seqlab import BPTTStream, EncoderConfig, SeqModel, StatefulEncoder, TrainConfig, Trainer
from seqlab.train import distributed

VOCAB, BS, BPTT = 24, 4, 6


def docs(seed: int, n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [
        np.concatenate([[2], rng.integers(3, VOCAB, size)]).astype(np.uint16)
        for size in rng.integers(20, 60, n)
    ]


def train(rank: int, world: int, port: int, out: str) -> None:
    """One rank's run (or the single-process run); rank 0 saves what it ended with."""
    torch.set_num_threads(1)
    if world > 1:
        assert distributed.setup_local(rank, world, port)
        assert (distributed.rank(), distributed.world_size()) == (rank, world)
        assert distributed.all_sum(rank + 1.0, 1.0) == [3.0, 2.0]
        assert distributed.all_gather([rank]) == [0, 1]
    torch.manual_seed(0)
    encoder = StatefulEncoder(
        EncoderConfig(vocab_size=VOCAB, hidden=8, layers=2, cell="lstm", emb_size=8)
    )
    model = SeqModel(encoder, TinyLMHead(encoder))
    common = {"bs": BS, "bptt": BPTT, "rank": rank, "world_size": world}
    train_dl = BPTTStream(docs(1, 8), random_bptt=True, shuffle=True, seed=5, **common)
    valid_dl = BPTTStream(docs(2, 4), **common)
    trainer = Trainer(
        model,
        train_dl,
        valid_dl,
        TrainConfig(epochs=2, lr=1e-2, device="cpu"),
        console=Console(quiet=True),
    )
    history = trainer.fit()
    if rank == 0:
        torch.save(
            {"weights": model.state_dict(), "history": history, "steps": sum(trainer.epoch_lens)},
            os.path.join(out, f"world{world}.pt"),
        )
    distributed.teardown()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_ranks_end_with_the_weights_and_metrics_of_one_process(tmp_path):
    # fork, not spawn: the children need not import torch again (seconds on a busy machine)
    mp.start_processes(train, args=(2, free_port(), str(tmp_path)), nprocs=2, start_method="fork")
    train(0, 1, 0, str(tmp_path))
    two = torch.load(tmp_path / "world2.pt")
    one = torch.load(tmp_path / "world1.pt")
    assert one["steps"] == two["steps"] > 10  # k optimizer steps, the same k
    assert one["weights"].keys() == two["weights"].keys()
    for name, w in one["weights"].items():
        torch.testing.assert_close(two["weights"][name], w, rtol=1e-4, atol=1e-5, msg=name)
    # the metrics are over both ranks' rows: the same numbers as one process
    for row1, row2 in zip(one["history"], two["history"], strict=True):
        for key in ("train_loss", "valid_loss", "accuracy"):
            assert abs(row1[key] - row2[key]) < 1e-5, key
    # and the weights did move: the comparison is not between two untrained models
    torch.manual_seed(0)
    fresh = StatefulEncoder(
        EncoderConfig(vocab_size=VOCAB, hidden=8, layers=2, cell="lstm", emb_size=8)
    )
    assert not torch.allclose(fresh.embedding.weight, one["weights"]["encoder.embedding.weight"])


def test_outside_torchrun_everything_is_one_process(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert distributed.setup() is False
    assert (distributed.rank(), distributed.world_size(), distributed.is_main()) == (0, 1, True)
    model = nn.Linear(2, 2)
    assert distributed.wrap(model) is model
    assert distributed.all_sum(1.5, 2.0) == [1.5, 2.0]
    assert distributed.wait_for_local_main(lambda: 7) == 7
