"""Data-parallel training with torch.distributed, one process per rank, launched by torchrun.

    torchrun --nproc_per_node 2 -m seqlab pretrain human-numbers

Every rank holds the whole model and reads its own rows of each batch (BPTTStream's rank and
world_size: rank k takes rows k, k+W, ...), so each keeps the hidden state of its own rows.
DistributedDataParallel averages the gradients after backward; the ranks hold equal numbers of
rows of equal length, so the average of their mean losses is the mean over the global batch,
and a step equals the single-process step on the same batch. Only rank 0 prints and writes.

Outside torchrun (no WORLD_SIZE in the environment) every function here is a no-op for one
process, so the trainer calls them unconditionally.
"""

from __future__ import annotations

import atexit
import os
import sys
from datetime import timedelta
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

# Waiting for rank 0 to tokenize a large corpus can take far longer than a training step,
# so that wait uses its own group with a long timeout; the default group keeps torch's.
DATA_TIMEOUT = timedelta(hours=24)
_data_group: Any = None


def is_running() -> bool:
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    return dist.get_rank() if is_running() else 0


def world_size() -> int:
    return dist.get_world_size() if is_running() else 1


def local_rank() -> int:
    """This process's rank on its own machine (torchrun's LOCAL_RANK)."""
    return int(os.environ.get("LOCAL_RANK", "0")) if is_running() else 0


def is_main() -> bool:
    return rank() == 0


def setup() -> bool:
    """Join the process group when started by torchrun (WORLD_SIZE > 1); True if joined.

    gloo carries CPU tensors; with GPUs, nccl carries CUDA tensors and each process takes the
    GPU of its LOCAL_RANK (so `--device auto` / `cuda` means this process's own GPU).
    """
    global _data_group
    if is_running():
        return True
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    if not dist.is_available():
        raise RuntimeError("this torch build has no torch.distributed")
    backend = "gloo"
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        backend = "cpu:gloo,cuda:nccl"
    dist.init_process_group(backend)
    _data_group = dist.new_group(backend="gloo", timeout=DATA_TIMEOUT)
    atexit.register(teardown)
    return True


def setup_local(rank: int, world: int, port: int) -> bool:
    """Join a process group of `world` processes on this machine without torchrun (what
    torchrun's environment says, set here): for spawned workers, benchmarks and tests."""
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        WORLD_SIZE=str(world),
        LOCAL_RANK=str(rank),
    )
    if sys.platform.startswith("linux"):  # loopback only, whatever the hostname says
        os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    return setup()


def teardown() -> None:
    global _data_group
    if is_running():
        dist.destroy_process_group()
    _data_group = None


def wrap(model: nn.Module) -> nn.Module:
    """`model` inside DistributedDataParallel when there are several ranks, else `model` itself.
    Call it after the model is on its device; DDP copies rank 0's weights to every rank."""
    if world_size() == 1:
        return model
    device = next(model.parameters()).device
    if device.type != "cuda":
        return DistributedDataParallel(model)
    index = device.index if device.index is not None else torch.cuda.current_device()
    return DistributedDataParallel(model, device_ids=[index])


def all_sum(*values: float) -> list[float]:
    """The sums over all ranks of each value (for losses and counts)."""
    if world_size() == 1:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64)
    dist.all_reduce(t, group=_data_group)  # gloo: CPU numbers, whatever the model's device
    return t.tolist()


def all_gather(items: list) -> list:
    """Every rank's `items`, concatenated in rank order (for per-batch metric records)."""
    if world_size() == 1:
        return items
    out: list[Any] = [None] * world_size()
    dist.all_gather_object(out, items, group=_data_group)
    return [x for part in out for x in part]


def wait_for_local_main(fn):
    """Run `fn()` on the first process of each machine while the others wait, then run it on
    the others (e.g. build a cache once per machine, then let everyone open it)."""
    if world_size() == 1:
        return fn()
    result = fn() if local_rank() == 0 else None
    dist.barrier(group=_data_group)
    return result if local_rank() == 0 else fn()


def seed_rank(seed: int, *salt: int) -> None:
    """Give ranks other than 0 their own random stream (dropout masks), drawn from the seed,
    so their rows get masks independent of rank 0's; rank 0 keeps the single-process stream."""
    if rank() > 0:
        state = np.random.SeedSequence([seed, rank(), *salt]).generate_state(1)[0]
        torch.manual_seed(int(state))
