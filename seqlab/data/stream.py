"""BPTTStream: the batches a stateful RNN language model trains on.

The documents are joined into one stream of N tokens, the stream is cut into `bs` rows, and each
batch is the next `bptt` columns of every row. Because row r of batch k+1 starts where row r of
batch k stopped, the encoder can carry its hidden state from one batch to the next (truncated
back-propagation through time).

layout="contiguous", bs=4, bptt=3, stream = a b c ... q (N=17):
the first N-1 = 16 positions (those that have a next token) make 4 rows of M = 16 // 4 = 4.

             batch 0    batch 1
    row 0:   a b c   |  d          y is x moved one token on:
    row 1:   e f g   |  h          row 0 of batch 0 predicts b c d,
    row 2:   i j k   |  l          row 3 of batch 1 predicts q.
    row 3:   m n o   |  p

layout="fastai-v1" (fastai v1's LanguageModelPreLoader, to reproduce the course), same stream:
row r starts at floor(r * N / bs); each row has ceil(N / (bs * bptt)) * bptt = 6 tokens and
wraps around to the start of the stream, so rows may overlap.

             batch 0    batch 1
    row 0:   a b c   |  d e f
    row 1:   e f g   |  h i j
    row 2:   i j k   |  l m n
    row 3:   m n o   |  p q a      (row 3 of batch 1 predicts q a b)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

LAYOUTS = ("contiguous", "fastai-v1")


class BPTTStream:
    """Iterate `(x, y)` LongTensors of shape `(bs // world_size, L)`, y = x shifted by one token.

    `docs` is a sequence of 1-d integer arrays (each a document starting with xxbos) or one 1-d
    array. Arrays may be memory-mapped: batches are gathered from them by index, so the token
    array is never copied as int64 (several documents are joined once, in their own dtype).

    Call `set_epoch(epoch)` before each epoch, as with torch's DistributedSampler: document
    shuffling and random bptt are drawn from (seed, epoch), so an epoch can be replayed exactly,
    and every rank draws the same batch lengths.
    """

    def __init__(
        self,
        docs: Sequence[np.ndarray] | np.ndarray,
        bs: int,
        bptt: int,
        layout: str = "contiguous",
        random_bptt: bool = False,
        shuffle: bool = False,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ):
        if bs < 1:
            raise ValueError(f"bs must be at least 1, got {bs}")
        if bptt < 1:
            raise ValueError(f"bptt must be at least 1, got {bptt}")
        if layout not in LAYOUTS:
            raise ValueError(f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}")
        if world_size < 1:
            raise ValueError(f"world_size must be at least 1, got {world_size}")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must be in 0..{world_size - 1} for world_size={world_size}")
        if bs % world_size:
            raise ValueError(
                f"bs={bs} is not divisible by world_size={world_size}: each rank takes "
                f"bs / world_size rows of every batch"
            )
        if isinstance(docs, np.ndarray) and docs.ndim == 1:
            docs = [docs]
        self.docs = [np.asarray(d) for d in docs]  # no copy: a memmap stays a view of its file
        for d in self.docs:
            if d.ndim != 1 or not np.issubdtype(d.dtype, np.integer):
                raise ValueError(f"documents must be 1-d integer arrays, got {d.dtype} {d.shape}")
        self.n_tokens = N = sum(len(d) for d in self.docs)
        # One rule for both layouts: every row needs at least one token that has a next token.
        # Fewer would give empty rows (contiguous) or rows that all start at the same place.
        if N - 1 < bs:
            raise ValueError(
                f"corpus has {N} tokens, too few for one batch of bs={bs} rows "
                f"(needs at least bs + 1 = {bs + 1}); lower --bs"
            )
        self.bs, self.bptt, self.layout = bs, bptt, layout
        self.random_bptt, self.shuffle, self.seed = random_bptt, shuffle, seed
        self.rank, self.world_size = rank, world_size

        if layout == "contiguous":
            self.row_len = (N - 1) // bs  # the tail of (N - 1) % bs < bs positions is dropped
            starts = np.arange(bs) * self.row_len
        else:
            self.row_len = -(-N // (bs * bptt)) * bptt  # ceil(N / (bs * bptt)) * bptt
            starts = np.arange(bs) * N // bs
        self._starts = starts[rank::world_size]  # this rank's rows: rank, rank + W, ...
        self._tokens: np.ndarray | None = None
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        if self._tokens is None or (self.shuffle and len(self.docs) > 1):
            self._tokens = None  # let the previous epoch's stream go before building the next
            self._tokens = self._join(np.random.default_rng([self.seed, epoch, 0]))
        self._seq_lens = self._draw_seq_lens(np.random.default_rng([self.seed, epoch, 1]))

    def _join(self, rng: np.random.Generator) -> np.ndarray:
        if len(self.docs) == 1:
            return self.docs[0]
        order = rng.permutation(len(self.docs)) if self.shuffle else range(len(self.docs))
        # Whole documents move, never tokens inside one; the docs' own dtype keeps it small.
        return np.concatenate([self.docs[i] for i in order])

    def _draw_seq_lens(self, rng: np.random.Generator) -> list[int]:
        """The width of every batch this epoch; they add up to `row_len`."""
        if not self.random_bptt:
            full, rest = divmod(self.row_len, self.bptt)
            return [self.bptt] * full + ([rest] if rest else [])
        # AWD-LSTM (Merity et al.): mostly bptt, sometimes bptt / 2, jittered so that batch
        # boundaries fall in different places each epoch.
        seq_lens, used = [], 0
        while used < self.row_len:
            mean = self.bptt if rng.random() < 0.95 else self.bptt / 2
            seq_len = max(5, int(round(rng.normal(mean, 5))))
            seq_len = min(seq_len, self.row_len - used)  # never past the row's end
            seq_lens.append(seq_len)
            used += seq_len
        return seq_lens

    def __len__(self) -> int:
        return len(self._seq_lens)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        col = 0
        for seq_len in self._seq_lens:
            # Stream positions of this batch: one row per line, one column per step.
            pos = self._starts[:, None] + (col + np.arange(seq_len))
            yield self._gather(pos), self._gather(pos + 1)
            col += seq_len

    def _gather(self, pos: np.ndarray) -> torch.Tensor:
        assert self._tokens is not None
        if self.layout == "fastai-v1":
            pos = pos % self.n_tokens  # rows that run past the end wrap to the start
        # Only this small batch becomes int64 (the stream may be a uint16 memmap).
        return torch.from_numpy(np.asarray(self._tokens[pos], dtype=np.int64))

    def __repr__(self) -> str:
        return (
            f"BPTTStream({self.n_tokens} tokens, bs={self.bs}, bptt={self.bptt}, "
            f"layout={self.layout!r}, {len(self)} batches)"
        )
