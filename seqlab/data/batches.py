"""PaddedBatches: labelled sequences -> padded, length-bucketed batches with masks.

This is the fine-tuning side of the data flow (BPTTStream is the LM side). Each example is one
whole sequence of token ids with its target: a class id (classification) or one tag id per
token (tagging). The encoder runs stateless over a batch, so no state joins batches up.

    example lengths 5 3 2 4 1, bs=2, right padding (p = pad_idx), mask True on real tokens:

        x:  a a a a a      mask: 1 1 1 1 1     y (classes):   (2,)        y (tags):  (2, 5)
            d d d d p            1 1 1 1 0                                 t t t t -100

Padding goes on the right, always: a left-to-right RNN then reads every real token before any
pad, so its output at a real position never depends on padding (no fastai-style pad-first
trick is needed, and the mask says where the real tokens are; a backward encoder reverses each
row inside its mask with `flip_padded`). Sequences of similar length are batched together so
little compute is spent on padding:

- without shuffling: examples sorted by length, longest first (deterministic: for evaluation
  and prediction, `plan()` says which examples each batch holds);
- with shuffling (training): a seeded permutation per epoch, cut into pools of `pool` batches'
  worth of examples, each pool sorted by length, cut into batches, and the batch order shuffled
  ("sortish", like torchtext's BucketIterator). Call `set_epoch(e)` before each epoch.

A batch holds at most `bs` examples and, when `max_tokens` is set, at most `max_tokens` padded
positions (rows x longest row). One example longer than `max_tokens` forms a batch alone:
there is no smaller batch that holds it (cut long texts before, if that is too big).

Contract (tested with hypothesis): in every epoch each example appears in exactly one batch,
each row's mask is True exactly on its example's tokens, and each batch respects bs and the
token budget as above.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor

PAD_LABEL = -100  # per-token targets at pad positions; F.cross_entropy's ignore_index


class Batch(NamedTuple):
    """x: (bs, L) token ids; y: targets; mask: (bs, L) True on real tokens (None: all real)."""

    x: Tensor
    y: Tensor
    mask: Tensor | None = None

    def to(self, device) -> Batch:
        mask = None if self.mask is None else self.mask.to(device)
        return Batch(self.x.to(device), self.y.to(device), mask)


class PaddedBatches:
    """Iterate `Batch(x, y, mask)`: x (n, L) LongTensor, mask (n, L) bool, y (n,) for one label
    per example or (n, L) for one label per token (padded with `pad_label`).

    `seqs`: 1-d integer arrays (token ids), none empty; or 2-d (tokens, F) arrays, F ids per
    token (a tagger's word, shape, characters...), all with the same F: then x is (n, L, F),
    padded with `pad_idx` in every column. `labels`: one int per sequence, or one
    1-d integer array per sequence with the sequence's length; None for unlabelled data (then
    y is an empty tensor, as for prediction).
    """

    def __init__(
        self,
        seqs: Sequence[np.ndarray],
        labels: Sequence[int] | Sequence[np.ndarray] | None = None,
        bs: int = 64,
        max_tokens: int | None = None,
        shuffle: bool = False,
        seed: int = 0,
        pad_idx: int = 1,
        pad_label: int = PAD_LABEL,
        pool: int = 50,
        sizes: Sequence[int] | None = None,
    ):
        if bs < 1:
            raise ValueError(f"bs must be at least 1, got {bs}")
        if max_tokens is not None and max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
        if pool < 1:
            raise ValueError(f"pool must be at least 1, got {pool}")
        if not len(seqs):
            raise ValueError("no examples to batch")
        self.seqs = [np.asarray(s) for s in seqs]
        self.lengths = np.array([len(s) for s in self.seqs], dtype=np.int64)
        if (self.lengths == 0).any():
            i = int(np.flatnonzero(self.lengths == 0)[0])
            raise ValueError(f"example {i} is empty: every example needs at least one token")
        self.labels: list[Any] | None = None if labels is None else list(labels)
        self.per_token = self.labels is not None and np.ndim(self.labels[0]) == 1
        if self.labels is not None:
            self._check_labels()
        self.bs, self.max_tokens, self.pool = bs, max_tokens, pool
        self.shuffle, self.seed, self.epoch = shuffle, seed, 0
        self.pad_idx, self.pad_label = pad_idx, pad_label
        # what an unshuffled plan sorts by, longest first: the lengths, or a reader's own
        # cost per example (a tagger's character LMs read characters, not words)
        self.sizes = self.lengths if sizes is None else np.asarray(sizes, dtype=np.int64)
        if len(self.sizes) != len(self.seqs):
            raise ValueError(f"{len(self.sizes)} sizes for {len(self.seqs)} examples")
        self._plan: list[np.ndarray] | None = None

    def _check_labels(self) -> None:
        assert self.labels is not None
        if len(self.labels) != len(self.seqs):
            raise ValueError(f"{len(self.labels)} labels for {len(self.seqs)} sequences")
        if self.per_token:
            for i, (s, t) in enumerate(zip(self.seqs, self.labels, strict=True)):
                if len(t) != len(s):
                    raise ValueError(f"example {i}: {len(s)} tokens but {len(t)} labels")

    def __len__(self) -> int:
        return len(self.plan())

    def set_epoch(self, epoch: int) -> None:
        if epoch != self.epoch:
            self.epoch, self._plan = epoch, None

    def plan(self) -> list[np.ndarray]:
        """The example indices of each batch of the current epoch, in order."""
        if self._plan is None:
            self._plan = self._make_plan()
        return self._plan

    def _make_plan(self) -> list[np.ndarray]:
        if not self.shuffle:
            # stable sort, longest first: ties keep input order
            return self._cut(np.argsort(-self.sizes, kind="stable"))
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(len(self.seqs))
        size = self.bs * self.pool
        batches = []
        for start in range(0, len(order), size):
            chunk = order[start : start + size]
            batches += self._cut(chunk[np.argsort(-self.lengths[chunk], kind="stable")])
        return [batches[i] for i in rng.permutation(len(batches))]

    def _cut(self, order: np.ndarray) -> list[np.ndarray]:
        """Greedy cut of sorted (longest first) indices into batches within bs and the budget:
        a batch's rows times the longest of them (its padded size) stays within max_tokens."""
        batches, start = [], 0
        while start < len(order):
            rows = self.bs
            if self.max_tokens is not None:  # the longest row of the candidates (sorted by
                # sizes, it need not be the first) sets the batch's width
                longest = int(self.lengths[order[start : start + rows]].max())
                rows = min(rows, max(1, self.max_tokens // longest))
            batches.append(order[start : start + rows])
            start += rows
        return batches

    def __iter__(self) -> Iterator[Batch]:
        for idx in self.plan():
            yield self.collate(idx)

    def collate(self, idx: np.ndarray) -> Batch:
        """The batch of examples `idx`, right-padded to the longest of them."""
        lengths = torch.as_tensor(self.lengths[idx])
        width = int(lengths.max())
        features = self.seqs[idx[0]].shape[1:]  # () for token ids; (F,) for F ids per token
        x = torch.full((len(idx), width, *features), self.pad_idx, dtype=torch.long)
        for row, i in enumerate(idx):
            x[row, : lengths[row]] = torch.from_numpy(self.seqs[i].astype(np.int64))
        mask = torch.arange(width)[None, :] < lengths[:, None]
        return Batch(x, self._targets(idx, width), mask)

    def _targets(self, idx: np.ndarray, width: int) -> Tensor:
        if self.labels is None:
            return torch.empty(0, dtype=torch.long)
        if not self.per_token:
            return torch.tensor([int(self.labels[i]) for i in idx], dtype=torch.long)
        y = torch.full((len(idx), width), self.pad_label, dtype=torch.long)
        for row, i in enumerate(idx):
            t = np.asarray(self.labels[i], dtype=np.int64)
            y[row, : len(t)] = torch.from_numpy(t)
        return y


def lengths_of(mask: Tensor) -> Tensor:
    """Real tokens per row of a right-padded batch."""
    return mask.sum(dim=1)


def flip_padded(x: Tensor, mask: Tensor) -> Tensor:
    """Reverse each row's real tokens in place of themselves, pads stay on the right:
    `a b c p p` -> `c b a p p`. Works on (n, L) and (n, L, d); applying it twice is identity.
    Use it to feed a backward encoder and to turn its outputs back into forward order."""
    width = x.size(1)
    lengths = lengths_of(mask)
    pos = torch.arange(width, device=x.device)[None, :].expand(x.size(0), width)
    src = torch.where(mask, lengths[:, None] - 1 - pos, pos)
    if x.dim() == 3:
        src = src[:, :, None].expand_as(x)
    return x.gather(1, src)
