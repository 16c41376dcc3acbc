"""CharLMReader: a word's vector from a character LM, Flair's contextual string embeddings
(Akbik et al. 2018).

The sentence is one string with a space before every word and after the last one, read in
one pass by the LM (after `xxbos`, as every pretraining document began):

    S        ␣ T h e ␣ c a t ␣
    forward  reads xxbos S            word j: the output at the space after it   (has seen
                                                                                  the word)
    backward reads xxbos reversed(S)  word j: the output at the space before it  (has seen
                                                                                  it, from
                                                                                  the right)

So each word's vector has read the whole word and everything on one side of it. The string is
built on the fly from the tagger's character columns (seqlab_tagging.features), whose ids are
mapped to the LM's own character ids by `lm_ids` (a character the LM never saw reads as its
xxunk). Frozen by default, as in Flair: the LM stays in eval mode (no dropout) and its
weights out of every layer group; `trainable=True` fine-tunes it with the tagger.

A frozen LM's vectors for a sentence never change, so while a tagger trains they are read once
(`remember`): each sentence's word vectors are kept, keyed by the character stream the LM
reads, and every later epoch and validation pass takes them from there. A batch runs the LM
only on its sentences not read before, and the result is bit for bit what reading them again
would give (the LM reads each row from a zero state, and a row's outputs do not depend on the
other rows of its batch; tested).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from seqlab import EncoderConfig, StatefulEncoder, Vocab, flip_padded
from seqlab.nn.encoder import Memo

SPACE = " "
# rows the LM reads at a time, each group of similar length cut to its longest row: a batch's
# rows differ in length, and on GUM test groups of 16 read 16% fewer pads than whole batches
# of 64, at the same characters per second (one thread, an LSTM of 256)
LM_ROWS = 16


class CharLMReader(nn.Module):
    def __init__(
        self, lm: StatefulEncoder, space: int, bos: int, n_chars: int, trainable: bool = False
    ):
        super().__init__()
        self.lm, self.space, self.bos, self.trainable = lm, space, bos, trainable
        self.pad = lm.config.pad_idx
        # tagger character id -> this LM's character id (filled by `map_chars`, or by loading)
        self.lm_ids: Tensor
        self.register_buffer("lm_ids", torch.zeros(n_chars, dtype=torch.long))
        if not trainable:
            lm.requires_grad_(False)
        self.memo: Memo | None = None  # sentence -> word vectors (remember)
        self._bos_out: Tensor | None = None  # what a pad word gets: the output after xxbos

    def remember(self, on: bool = True) -> None:
        """Keep each sentence's word vectors once read (a frozen LM only; a trainable one
        changes every step). For training, where the same sentences come back every epoch;
        prediction reads each sentence once, so it does not remember."""
        self.memo = Memo() if on and not self.trainable else None

    @classmethod
    def from_config(cls, config: dict[str, Any], n_chars: int) -> CharLMReader:
        lm = StatefulEncoder(EncoderConfig(**config["lm"]))
        return cls(lm, config["space"], config["bos"], n_chars, config["trainable"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "lm": self.lm.to_dict(),
            "space": self.space,
            "bos": self.bos,
            "trainable": self.trainable,
        }

    def map_chars(self, tagger_chars: Vocab, lm_chars: Vocab) -> None:
        ids = [lm_chars.stoi.get(c, lm_chars.unk_idx) for c in tagger_chars.itos]
        self.lm_ids.copy_(torch.tensor(ids))
        self.lm_ids[tagger_chars.pad_idx] = self.pad

    @property
    def out_size(self) -> int:
        return self.lm.out_size

    def train(self, mode: bool = True) -> CharLMReader:
        super().train(mode)
        if not self.trainable:
            self.lm.eval()  # a frozen LM reads as it was pretrained: no dropout
        return self

    def forward(self, chars: Tensor, words: Tensor, pad: int) -> Tensor:
        """chars: (bs, L, W) tagger character ids of each word (left-aligned, `pad` after);
        words: (bs, L) True on real words -> (bs, L, out_size)."""
        bs, length, width = chars.shape
        real = chars != pad
        n = real.sum(-1) * words  # characters per word (0 for a pad word)
        # slots: a space before each word, then its characters; compacted left in order
        slots = torch.cat([chars.new_full((bs, length, 1), -1), self.lm_ids[chars]], dim=-1)
        valid = torch.cat([words[..., None], real & words[..., None]], dim=-1)
        slots, valid = slots.reshape(bs, -1), valid.reshape(bs, -1)
        order = torch.argsort((~valid).to(torch.int8), dim=1, stable=True)
        stream = slots.gather(1, order).masked_fill(~valid.gather(1, order), self.pad)
        total = valid.sum(1)  # the final space goes right after the last character
        # only the longest row's characters: the slots leave room for every word at full width
        # (16 characters), and the LM would read 4x as many pads as characters on GUM
        stream = stream[:, : int(total.max())]
        stream = torch.cat([stream, stream.new_full((bs, 1), self.pad)], dim=1)
        stream = stream.masked_fill(stream == -1, self.space)
        stream.scatter_(1, total[:, None], self.space)
        mask = torch.arange(stream.size(1), device=chars.device)[None] <= total[:, None]
        start = torch.cumsum(n + 1, dim=1) - (n + 1)  # each word's leading space in S
        if self.lm.config.backward:
            lm_input = flip_padded(stream, mask)
            at = (total[:, None] + 1) - start  # T - start, with xxbos at 0 and T = total + 1
        else:
            lm_input = stream
            at = start + n + 2  # the space after the word, after xxbos
        at = at.masked_fill(~words, 0)
        if self.memo is None:
            return self._vectors(lm_input, at, total)
        return self._remembered(lm_input, at, stream, total, words.sum(1))

    def _vectors(self, lm_input: Tensor, at: Tensor, total: Tensor) -> Tensor:
        """The LM's outputs at `at`, read LM_ROWS rows at a time, longest first, each group
        cut to its longest row (`total` + 1 symbols); a row's outputs do not depend on the
        other rows it is read with."""
        order = torch.argsort(total, descending=True, stable=True)
        parts = []
        for rows in order.split(LM_ROWS):
            out = self._read(lm_input[rows, : int(total[rows].max()) + 1])
            parts.append(out.gather(1, at[rows, :, None].expand(-1, -1, out.size(-1))))
        return torch.cat(parts)[torch.argsort(order)]

    def _remembered(
        self, lm_input: Tensor, at: Tensor, stream: Tensor, total: Tensor, n_words: Tensor
    ) -> Tensor:
        """The word vectors of the batch from `memo`, the LM run on the rows not in it."""
        assert self.memo is not None
        keys = [stream[i, : int(t) + 1].cpu().numpy().tobytes() for i, t in enumerate(total)]

        def read(new: list[int]) -> list[Tensor]:
            rows = torch.tensor(new, device=lm_input.device)
            got = self._vectors(lm_input[rows], at[rows], total[rows])
            if self._bos_out is None:
                self._bos_out = self._read(lm_input[rows[:1], :1])[0, 0].clone()
            return [got[j, : int(n_words[i])] for j, i in enumerate(new)]

        vectors = self.memo.outputs(keys, read)
        assert self._bos_out is not None  # set by the first batch's new rows
        out = self._bos_out.expand(len(keys), at.size(1), -1).clone()  # pad words: as gather
        for i, v in enumerate(vectors):
            out[i, : len(v)] = v
        return out

    def _read(self, stream: Tensor) -> Tensor:
        x = torch.cat([stream.new_full((stream.size(0), 1), self.bos), stream], dim=1)
        if self.trainable:
            return self.lm(x)
        with torch.no_grad():
            return self.lm(x)
