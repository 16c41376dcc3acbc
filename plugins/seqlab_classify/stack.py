"""StackedLMs: a classifier's encoder made of several pretrained LMs reading the same text,
each in its own direction, their outputs side by side position by position (Flair's stacked
embeddings, for a whole text; ULMFiT's forward + backward pair as one model).

    xxbos w1 w2 w3 p p     the text, forward (what the batches hold)
    forward LM   reads xxbos w1 w2 w3          -> outputs o1..o4, in its reading order
    backward LM  reads xxbos w3 w2 w1          -> outputs b1..b4, in its reading order
                                           concat -> (n, L, sum of out_size) -> the head pools

Each LM's outputs stay in its own reading order, not aligned by word: the head pools over
positions (max, mean and the last real one), and the last is then what each LM has read by
the end of the whole text, the backward one's included (aligned by word, it would be the
backward LM's output after xxbos and the last word only).

All the LMs read one vocab (the classifier's: every LM's tokens and the training texts'),
so they are of one level, words or characters. `frozen` LMs are not trained: they read in
eval mode (no dropout) and without gradients, and only the head learns. On a small labelled
set that is what generalises to new documents (docs/classify.md, GUM genre): fine-tuning an
LM on 1,400 sentences learns their documents' topics.

Frozen LMs are read once per text while a classifier trains (`remember`): a text's outputs
never change, so they are kept, keyed by the text's ids, and every later epoch and validation
pass takes them from there; the LMs run only on texts not read before. The head pools over
real positions only, so the outputs kept are the real positions' (pads read as 0), and the
result is what reading again gives (tested).

Registered as encoder kind "classify-stack" (entry-point group `seqlab.encoders`), so a
classifier's checkpoint reloads with the core's `load_model`.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from seqlab import EncoderConfig, StatefulEncoder, flip_padded
from seqlab.nn.encoder import LMReader, Memo
from seqlab.store.validate import check_arguments
from seqlab.tasks import transfer


class StackedLMs(LMReader):
    kind = "classify-stack"

    def __init__(self, lms: list[StatefulEncoder], pad_idx: int, frozen: bool = True):
        super().__init__()
        if not lms:
            raise ValueError("a stack needs at least one LM")
        self.lms = nn.ModuleList(lms)
        self.pad_idx, self.frozen = pad_idx, frozen
        if frozen:
            self.lms.requires_grad_(False)
        self.config = {"lms": [e.to_dict() for e in lms], "pad_idx": pad_idx, "frozen": frozen}
        self.memo: Memo | None = None  # text ids -> outputs (remember)

    def remember(self, on: bool = True) -> None:
        """Keep each text's outputs once read (frozen LMs only: trained ones change every
        step). For training, where the same texts come back every epoch."""
        self.memo = Memo() if on and self.frozen else None

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> StackedLMs:
        scalars: dict[str, Any] = {k: config[k] for k in ("pad_idx", "frozen") if k in config}
        check_arguments(cls.__init__, scalars, "encoder")  # an edited JSON: types first
        return cls([StatefulEncoder(EncoderConfig(**c)) for c in config["lms"]], **scalars)

    @property
    def out_size(self) -> int:
        return sum(e.out_size for e in self.language_models)

    def train(self, mode: bool = True) -> StackedLMs:
        super().train(mode)
        if self.frozen:
            self.lms.eval()  # a frozen LM reads as it was pretrained: no dropout
        return self

    def forward(self, x: Tensor) -> Tensor:
        """x: (n, L) ids, xxbos first, right-padded -> (n, L, out_size)."""
        if self.memo is not None:
            return self._remembered(x)
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
            return torch.cat([self._read(lm, x) for lm in self.language_models], dim=-1)

    def _remembered(self, x: Tensor) -> Tensor:
        """The outputs of the batch from `memo`, the LMs run on the texts not in it."""
        memo = self.memo
        assert memo is not None
        lengths = [int(n) for n in (x != self.pad_idx).sum(1)]
        keys = [x[i, :n].cpu().numpy().tobytes() for i, n in enumerate(lengths)]

        def read(new: list[int]) -> list[Tensor]:
            rows = x[torch.tensor(new, device=x.device)][:, : max(lengths[i] for i in new)]
            self.memo = None  # read them as without a memo
            got = self(rows)
            self.memo = memo
            return [got[j, : lengths[i]] for j, i in enumerate(new)]

        out = x.new_zeros((*x.shape, self.out_size), dtype=torch.float32)
        for i, outputs in enumerate(memo.outputs(keys, read)):
            out[i, : lengths[i]] = outputs
        return out

    def _read(self, lm: StatefulEncoder, x: Tensor) -> Tensor:
        if not lm.config.backward:
            return lm(x)
        # xxbos first, then the real tokens reversed; pads stay on the right
        mask = x[:, 1:] != self.pad_idx
        return lm(torch.cat([x[:, :1], flip_padded(x[:, 1:], mask)], dim=1))

    # The Encoder interface beyond forward: layer groups (no state: seqlab.nn.encoder.LMReader).

    def layer_groups(self) -> list[list[nn.Parameter]]:
        """Frozen: one empty group (only the head trains). Else the LMs' embeddings, then
        layer i of every LM together (aligned at the top), then their tops."""
        return [[]] if self.frozen else transfer.aligned_layer_groups(self.language_models)
