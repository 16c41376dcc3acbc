"""TaggerEncoder: what a tagger knows of each word, in context.

    words ─► own features (lower-cased word, shape, suffix, char-CNN) ─┐
          ─► pretrained word LMs, forward and/or backward, per word ───┤
          ─► character LMs, forward and/or backward (seqlab_tagging.charlm)┴─► concat
                                                                            ▼
                                                BiLSTM over the sentence (context)
                                                                            ▼
                                                (bs, L, out_size) for the TagHead

The own features are on by default: they are what lets a tagger be right about a word it
never saw (a fifth of real text). The LMs are what pretraining on unlabelled text adds (Flair's
stacked embeddings; ULMFiT's fine-tuning): word LMs are fine-tuned with the tagger, character
LMs are frozen unless asked. The BiLSTM gives the features context; with LMs
only (`features` off) it may be left out, and the LM outputs go to the head as they are.

A forward LM's output at a word has seen only the words before it; a backward LM's, only the
words after it:

    words       w1   w2   w3   p p        (right-padded batch, mask True on w1..w3)
    forward     xxbos w1  w2   w3         -> outputs at w1 w2 w3
    backward    xxbos w3  w2   w1         -> outputs at w3 w2 w1, flipped back to w1 w2 w3

Each LM reads `xxbos` first, as it did at the start of every document, and a backward one
reads each sentence reversed inside its real length (pads stay on the right, so no real
output ever depends on padding; the BiLSTM reads each row within its length for the same
reason: `in_context`).

Input: (bs, L, COLUMNS) feature ids (seqlab_tagging.features; column 0 is the word's id in
the run's vocab, which the LMs read), or (bs, L) word ids for a tagger of LMs only.
Registered as encoder kind "tagger" (entry-point group `seqlab.encoders`), so a tagger's
checkpoint reloads with the core's `load_model`; the config holds the feature vocabs, so
`seqlab predict` needs only the run directory.
"""

from __future__ import annotations

from typing import Any, cast

import torch
from torch import Tensor, nn

from seqlab import EncoderConfig, StatefulEncoder, flip_padded
from seqlab.nn.encoder import LMReader, locked_dropout
from seqlab.store.validate import check_arguments
from seqlab.tasks import transfer
from seqlab_tagging.charlm import CharLMReader
from seqlab_tagging.features import CHARS, WORD, Featurizer
from seqlab_tagging.wordrep import WordFeatures, WordFeaturesConfig


def in_context(lstm: nn.LSTM, h: Tensor, mask: Tensor) -> Tensor:
    """The one-layer BiLSTM `lstm` over right-padded rows, each direction reading only its
    row's real words: forward from the first word (the padding comes after the last), backward
    from the last (each row flipped within its length, `flip_padded`); padded positions are 0.
    The same numbers as on packed sequences, without them: torch's packed LSTM slices its
    input per time step, and each slice's gradient fills a tensor of the whole batch, so one
    sentence of L words cost O(L^2) (a 10k-word sentence: minutes per step, issue 23)."""
    zeros = h.new_zeros(1, h.size(0), lstm.hidden_size)

    def run(x: Tensor, suffix: str) -> Tensor:
        weights = [getattr(lstm, f"{n}_l0{suffix}") for n in ("weight_ih", "weight_hh")]
        weights += [getattr(lstm, f"{n}_l0{suffix}") for n in ("bias_ih", "bias_hh")]
        return torch.lstm(x, (zeros, zeros), weights, True, 1, 0.0, lstm.training, False, True)[0]

    forward = run(h, "")
    backward = flip_padded(run(flip_padded(h, mask), "_reverse"), mask)
    return torch.cat([forward, backward], dim=-1) * mask[..., None]


class TaggerEncoder(LMReader):
    kind = "tagger"

    def __init__(
        self,
        lms: list[StatefulEncoder],
        bos_idx: int,
        pad_idx: int,
        featurizer: Featurizer | None = None,
        features: WordFeaturesConfig | None = None,
        context: int = 0,
        drop: float = 0.0,
        char_lms: list[CharLMReader] = (),  # type: ignore[assignment]
    ):
        """`lms`: pretrained word LMs (each reads the direction its config says); `features`:
        the own word features, built from `featurizer`'s vocabs; `context`: hidden size per
        direction of the BiLSTM over the word vectors (0: none); `drop`: locked dropout on
        the word vectors before it; `char_lms`: character LMs reading the featurizer's
        character columns (Flair's embeddings)."""
        super().__init__()
        if not lms and not char_lms and features is None:
            raise ValueError("a tagger needs word features or at least one pretrained LM")
        if (char_lms or features is not None) and featurizer is None:
            raise ValueError("word features and character LMs read the featurizer's columns")
        self.lms = nn.ModuleList(lms)
        self.char_lms = nn.ModuleList(char_lms)
        self.bos_idx, self.pad_idx, self.drop = bos_idx, pad_idx, drop
        self.featurizer = featurizer
        self.features = WordFeatures(features) if features is not None else None
        size = sum(e.out_size for e in lms) + sum(r.out_size for r in char_lms)
        size += self.features.out_size if self.features is not None else 0
        self.context = (
            nn.LSTM(size, context, batch_first=True, bidirectional=True) if context else None
        )
        self._out_size = 2 * context if context else size
        self.config = {
            "lms": [e.to_dict() for e in lms],
            "bos_idx": bos_idx,
            "pad_idx": pad_idx,
            "featurizer": featurizer.to_dict() if featurizer is not None else None,
            "features": self.features.to_dict() if self.features is not None else None,
            "context": context,
            "drop": drop,
            "char_lms": [r.to_dict() for r in char_lms],
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TaggerEncoder:
        fz, wf = config.get("featurizer"), config.get("features")
        # a checkpoint's JSON may have been edited: types first, before anything is built
        names = ("bos_idx", "pad_idx", "context", "drop")
        scalars: dict[str, Any] = {k: config[k] for k in names if k in config}
        check_arguments(cls.__init__, scalars, "encoder")
        if wf is not None:
            check_arguments(WordFeaturesConfig, wf, "encoder.features")
        n_chars = len(fz["chars"]) if fz is not None else 0
        return cls(
            [StatefulEncoder(EncoderConfig(**c)) for c in config["lms"]],
            config["bos_idx"],
            config["pad_idx"],
            Featurizer.from_dict(fz) if fz is not None else None,
            WordFeaturesConfig(**wf) if wf is not None else None,
            config.get("context", 0),
            config.get("drop", 0.0),
            [CharLMReader.from_config(c, n_chars) for c in config.get("char_lms", [])],
        )

    @property
    def out_size(self) -> int:
        return self._out_size

    def forward(self, x: Tensor) -> Tensor:
        """x: (bs, L, COLUMNS) or (bs, L) ids, right-padded -> (bs, L, out_size)."""
        words = x[..., WORD] if x.dim() == 3 else x
        mask = words != self.pad_idx
        parts = [self.features(x)] if self.features is not None else []
        for lm in self.language_models:
            if lm.config.backward:
                parts.append(flip_padded(self._read(lm, flip_padded(words, mask)), mask))
            else:
                parts.append(self._read(lm, words))
        for reader in self.char_lms:
            parts.append(reader(x[..., CHARS:], mask, self.pad_idx))
        h = torch.cat(parts, dim=-1)
        if self.context is None:
            return h
        h = locked_dropout(h, self.drop, self.training)
        return in_context(self.context, h, mask)

    def _read(self, encoder: StatefulEncoder, x: Tensor) -> Tensor:
        bos = x.new_full((x.size(0), 1), self.bos_idx)
        return encoder(torch.cat([bos, x], dim=1))[:, 1:]

    # The Encoder interface beyond forward: layer groups (no state: seqlab.nn.encoder.LMReader).

    def layer_groups(self) -> list[list[nn.Parameter]]:
        """The LMs' embeddings, then layer i of every LM together, aligned at the top when
        their depths differ (the top layers are unfrozen first); last the tagger's own
        parts (features, BiLSTM) and the LMs' batch norms, which train with the head. A
        frozen character LM is in no group: nothing trains it."""
        tuned = self.language_models + [
            cast(CharLMReader, r).lm for r in self.char_lms if cast(CharLMReader, r).trainable
        ]
        groups = transfer.aligned_layer_groups(tuned)
        for own in (self.features, self.context):
            if own is not None:
                groups[-1] += list(own.parameters())
        return groups
