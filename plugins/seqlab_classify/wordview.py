"""WordView: the classifier's own reading of a text when no LM is given.

    word ids ─► embedding (word dropout: a training word becomes xxunk with probability p)
             ─► dropout ─► BiGRU (packed: padding never reaches a real word) ─► (n, L, 2h)

Word dropout (Iyyer et al. 2015) teaches the model to do without any single word, which on
a few thousand texts is what keeps it from memorising the training documents' words. The
n-gram channel beside it (seqlab_classify.ngram_encoder) holds the lexical weights; this
view adds word order and context. Registered as encoder kind "classify-words".
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqlab.store.validate import check_arguments


class WordView(nn.Module):
    kind = "classify-words"

    def __init__(
        self,
        vocab_size: int,
        emb_size: int = 64,
        hidden: int = 64,
        word_drop: float = 0.1,
        drop: float = 0.25,
        unk_idx: int = 0,
        pad_idx: int = 1,
        bos_idx: int = 2,
    ):
        super().__init__()
        if not 0 <= word_drop < 1 or not 0 <= drop < 1:
            raise ValueError(f"dropouts must be in [0, 1), got {word_drop} and {drop}")
        self.config = {
            "vocab_size": vocab_size,
            "emb_size": emb_size,
            "hidden": hidden,
            "word_drop": word_drop,
            "drop": drop,
            "unk_idx": unk_idx,
            "pad_idx": pad_idx,
            "bos_idx": bos_idx,
        }
        self.word_drop, self.unk_idx, self.pad_idx, self.bos_idx = (
            word_drop,
            unk_idx,
            pad_idx,
            bos_idx,
        )
        self.embedding = nn.Embedding(vocab_size, emb_size, padding_idx=pad_idx)
        self.dropout = nn.Dropout(drop)
        self.rnn = nn.GRU(emb_size, hidden, batch_first=True, bidirectional=True)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> WordView:
        check_arguments(cls.__init__, config, "encoder.inner")  # an edited JSON: types first
        return cls(**config)

    @property
    def out_size(self) -> int:
        return 2 * self.rnn.hidden_size

    def forward(self, x: Tensor) -> Tensor:
        """x: (n, L) ids, xxbos first, right-padded -> (n, L, 2 * hidden)."""
        mask = x != self.pad_idx
        if self.training and self.word_drop > 0:
            dropped = (torch.rand(x.shape, device=x.device) < self.word_drop) & mask
            x = x.masked_fill(dropped & (x != self.bos_idx), self.unk_idx)
        h = self.dropout(self.embedding(x))
        lengths = mask.sum(1).clamp(min=1).cpu()
        packed = pack_padded_sequence(h, lengths, batch_first=True, enforce_sorted=False)
        out, _ = pad_packed_sequence(self.rnn(packed)[0], batch_first=True)
        if out.size(1) < x.size(1):  # pad_packed_sequence stops at the longest real row
            out = nn.functional.pad(out, (0, 0, 0, x.size(1) - out.size(1)))
        return out

    # The Encoder interface beyond forward: nothing is carried between batches.

    def reset(self) -> None:
        """No state."""

    def get_state(self) -> dict[str, Tensor]:
        return {}

    def set_state(self, tensors: dict[str, Tensor]) -> None:
        """No state."""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.config)

    def layer_groups(self) -> list[list[nn.Parameter]]:
        return [list(self.embedding.parameters()), list(self.rnn.parameters()), []]
