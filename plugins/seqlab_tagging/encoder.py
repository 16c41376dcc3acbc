"""TaggerEncoder: a forward encoder and an optional backward one, outputs joined per token.

A forward LM's output at a word has seen only the words before it; a backward LM's, only the
words after it. A tag often needs both ("one" in "one thousand" is a thousands digit, in
"twenty one" a units digit), so the tagger concatenates the two per word:

    words       w1   w2   w3   p p        (right-padded batch, mask True on w1..w3)
    forward     xxbos w1  w2   w3         -> outputs at w1 w2 w3
    backward    xxbos w3  w2   w1         -> outputs at w3 w2 w1, flipped back to w1 w2 w3
    out[t]      [fwd(w_t) ; bwd(w_t)]

Each direction reads `xxbos` first, as its LM did at the start of every document, and the
backward one reads each sentence reversed inside its real length (pads stay on the right, so
no real output ever depends on padding). The real tokens are those that are not `xxpad`.

Registered as encoder kind "tagger" (entry-point group `seqlab.encoders`), so a tagger's
checkpoint reloads with the core's `load_model`. Layer groups (for discriminative learning
rates and gradual unfreezing) pair the two directions: both embeddings, then layer i of both.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from seqlab import EncoderConfig, StatefulEncoder, flip_padded


class TaggerEncoder(nn.Module):
    kind = "tagger"

    def __init__(self, forward: StatefulEncoder, backward: StatefulEncoder | None, bos_idx: int):
        super().__init__()
        self.fwd, self.bwd, self.bos_idx = forward, backward, bos_idx
        self.pad_idx = forward.config.pad_idx
        self.config = {
            "forward": forward.to_dict(),
            "backward": backward.to_dict() if backward is not None else None,
            "bos_idx": bos_idx,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TaggerEncoder:
        bwd = config.get("backward")
        return cls(
            StatefulEncoder(EncoderConfig(**config["forward"])),
            StatefulEncoder(EncoderConfig(**bwd)) if bwd is not None else None,
            config["bos_idx"],
        )

    @property
    def directions(self) -> list[StatefulEncoder]:
        return [self.fwd] if self.bwd is None else [self.fwd, self.bwd]

    @property
    def out_size(self) -> int:
        return sum(e.out_size for e in self.directions)

    def forward(self, x: Tensor) -> Tensor:
        """x: (bs, L) word ids, right-padded with xxpad -> (bs, L, out_size)."""
        mask = x != self.pad_idx
        out = [self._read(self.fwd, x)]
        if self.bwd is not None:
            out.append(flip_padded(self._read(self.bwd, flip_padded(x, mask)), mask))
        return torch.cat(out, dim=-1)

    def _read(self, encoder: StatefulEncoder, x: Tensor) -> Tensor:
        bos = x.new_full((x.size(0), 1), self.bos_idx)
        return encoder(torch.cat([bos, x], dim=1))[:, 1:]

    # What SeqModel and Trainer use: layer groups, state (none: fine-tuning is stateless).

    @property
    def embedding(self) -> nn.ModuleList:
        return nn.ModuleList(e.embedding for e in self.directions)

    @property
    def rnns(self) -> list[nn.ModuleList]:
        """Layer i of both directions together, aligned at the top when depths differ (the
        top layers are the ones unfrozen first)."""
        depth = max(len(e.rnns) for e in self.directions)
        groups: list[list[nn.Module]] = [[] for _ in range(depth)]
        for e in self.directions:
            for i, rnn in enumerate(e.rnns):
                groups[depth - len(e.rnns) + i].append(rnn)
        return [nn.ModuleList(g) for g in groups]

    @property
    def bn(self) -> nn.ModuleList | None:
        bns = [e.bn for e in self.directions if e.bn is not None]
        return nn.ModuleList(bns) if bns else None

    def reset(self) -> None:
        for e in self.directions:
            e.reset()

    def get_state(self) -> dict[str, Tensor]:
        return {}

    def set_state(self, tensors: dict[str, Tensor]) -> None:
        pass

    def to_dict(self) -> dict[str, Any]:
        return self.config
