"""WordFeatures: a trainable vector per word from its feature columns (seqlab_tagging.features).

    lower-cased word ──► embedding (word dropout to xxunk while training) ─┐
    shape            ──► embedding                                        ├─► concat
    suffix           ──► embedding                                        │
    characters       ──► char embedding ► Conv1d ► max over the word ─────┘
                         (Ma & Hovy 2016's character CNN)           (bs, L, out_size)

Word dropout: while training, a word's lower-cased id becomes xxunk with probability
`word_drop`, so xxunk's row learns what a word seen too rarely looks like in context, and the
model learns to lean on spelling when the word itself is unknown (as it will be for a fifth
of real test words).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn

from seqlab_tagging.features import CHARS, LOWER, SHAPE, SUFFIX


@dataclass
class WordFeaturesConfig:
    n_lower: int
    n_shapes: int
    n_suffixes: int
    n_chars: int
    word_emb: int = 100
    shape_emb: int = 16
    suffix_emb: int = 32
    char_emb: int = 32
    char_filters: int = 64
    char_kernel: int = 3
    word_drop: float = 0.05
    unk_idx: int = 0
    pad_idx: int = 1


class WordFeatures(nn.Module):
    def __init__(self, config: WordFeaturesConfig):
        super().__init__()
        c = self.config = config
        self.lower = nn.Embedding(c.n_lower, c.word_emb, padding_idx=c.pad_idx)
        self.shape = nn.Embedding(c.n_shapes, c.shape_emb, padding_idx=c.pad_idx)
        self.suffix = nn.Embedding(c.n_suffixes, c.suffix_emb, padding_idx=c.pad_idx)
        self.char = nn.Embedding(c.n_chars, c.char_emb, padding_idx=c.pad_idx)
        self.conv = nn.Conv1d(c.char_emb, c.char_filters, c.char_kernel, padding=c.char_kernel // 2)

    @property
    def out_size(self) -> int:
        c = self.config
        return c.word_emb + c.shape_emb + c.suffix_emb + c.char_filters

    def forward(self, x: Tensor) -> Tensor:
        """x: (bs, L, COLUMNS) feature ids -> (bs, L, out_size)."""
        lower = x[..., LOWER]
        if self.training and self.config.word_drop > 0:
            drop = torch.rand(lower.shape, device=x.device) < self.config.word_drop
            lower = lower.masked_fill(drop & (lower != self.config.pad_idx), self.config.unk_idx)
        parts = [self.lower(lower), self.shape(x[..., SHAPE]), self.suffix(x[..., SUFFIX])]
        parts.append(self._chars(x[..., CHARS:]))
        return torch.cat(parts, dim=-1)

    def _chars(self, chars: Tensor) -> Tensor:
        """(bs, L, W) character ids -> (bs, L, filters): the CNN's max over each word's
        characters (padding excluded; an all-pad position, i.e. a pad word, gives zeros)."""
        bs, length, width = chars.shape
        flat = chars.reshape(bs * length, width)
        # Only real words go through the CNN: a batch padded to one long sentence would else
        # convolve bs x L positions, nearly all padding (a 10k-word sentence among 31 short
        # ones: 320k words of work for 10k, the bulk of a minute's training step).
        words = (flat != self.config.pad_idx).any(dim=1).nonzero().squeeze(1)
        real_chars = flat[words]
        h = self.conv(self.char(real_chars).transpose(1, 2))  # (words, filters, W)
        real = (real_chars != self.config.pad_idx)[:, None, :]
        h = h.masked_fill(~real, float("-inf")).amax(dim=2)
        out = h.new_zeros(bs * length, h.size(1))
        return out.index_copy(0, words, h).reshape(bs, length, -1)

    def to_dict(self) -> dict:
        return asdict(self.config)
