"""The lesson's hand-written recurrences (fastai lesson 7, models 0 to 3), as seqlab encoders.

One step of the recurrence, with the course's names (i_h: input to hidden, h_h: hidden to
hidden; h_o, hidden to output, is the LM head's decoder):

    h = relu(h_h(h + i_h(x_t)))

The same square matrix h_h is applied at every step, so the model can read any number of
tokens. Where the course puts batch norm differs between the models, so it is an option:
models 0 and 1 normalise h inside the recurrence (`bn_inside=True`), models 2 and 3 normalise
each step's output on its way to the decoder and leave the recurrence itself alone.

`Unrolled3Encoder` (model 0) writes the three steps out by hand; `LoopEncoder` (models 1 to 3)
is the same computation as a loop. With the same weights they give the same outputs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from seqlab import EncoderConfig


@dataclass
class LoopConfig(EncoderConfig):
    """EncoderConfig plus where batch norm goes. Fields a hand-written recurrence has no
    use for (cell, dropouts) must keep their neutral values."""

    bn_inside: bool = False  # True: h = bn(relu(...)) (models 0, 1); False: bn on the outputs

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.layers != 1:
            raise ValueError(f"the lesson's hand-written recurrence has 1 layer, not {self.layers}")
        if self.emb_size not in (None, self.hidden):
            raise ValueError(
                f"the hand-written recurrence adds the embedding to h, so emb_size must equal "
                f"hidden ({self.hidden}), got {self.emb_size}"
            )
        for name in ("emb_drop", "input_drop", "hidden_drop", "weight_drop"):
            if getattr(self, name):
                raise ValueError(f"the lesson's hand-written recurrence has no {name}")


class LoopEncoder(nn.Module):
    """Models 1-3: h = relu(h_h(h + i_h(x_t))) for every token; outputs (bs, L, hidden).

    `stateful=False` starts every batch from h = 0 (model 2); `stateful=True` starts from the
    last h of the previous batch, detached (model 3): the truncated BPTT of the core encoder.
    """

    kind = "lesson7-loop"

    def __init__(self, config: LoopConfig):
        super().__init__()
        self.config = c = config
        self.embedding = nn.Embedding(c.vocab_size, c.hidden)  # the course's i_h
        self.h_h = nn.Linear(c.hidden, c.hidden)
        self.bn = nn.BatchNorm1d(c.hidden) if c.bn else None
        self.state: Tensor | None = None

    @classmethod
    def from_config(cls, config: dict) -> LoopEncoder:
        return cls(LoopConfig(**config))

    def to_dict(self) -> dict:
        return asdict(self.config)

    def layer_groups(self) -> list[list[nn.Parameter]]:
        """As the core encoder's: the embedding, the recurrent layer (the one h_h), and the
        batch norm (trained with the head)."""
        bn = list(self.bn.parameters()) if self.bn is not None else []
        return [list(self.embedding.parameters()), list(self.h_h.parameters()), bn]

    @property
    def out_size(self) -> int:
        return self.config.hidden

    def reset(self) -> None:
        self.state = None

    def step(self, h: Tensor, x_t: Tensor) -> Tensor:
        """One token: the new h, batch-normed when bn is inside the recurrence."""
        h = F.relu(self.h_h(h + self.embedding(x_t)))
        return self.bn(h) if self.bn is not None and self.config.bn_inside else h

    def output(self, h: Tensor) -> Tensor:
        """What the decoder sees of h (the course normalises each step on its own)."""
        return self.bn(h) if self.bn is not None and not self.config.bn_inside else h

    def forward(self, x: Tensor) -> Tensor:
        """x: (bs, L) token ids -> (bs, L, hidden): the output after each token."""
        h = self.initial_state(x)
        outs = []
        for t in range(x.size(1)):
            h = self.step(h, x[:, t])
            outs.append(self.output(h))
        self.keep(h)
        return torch.stack(outs, dim=1)

    def initial_state(self, x: Tensor) -> Tensor:
        bs = x.size(0)
        if not self.config.stateful or self.state is None or self.state.size(0) < bs:
            # Nothing to continue (model 2 never continues; a larger batch has new rows).
            return x.new_zeros(bs, self.config.hidden, dtype=self.h_h.weight.dtype)
        return self.state[:bs]  # a smaller batch continues the first rows

    def keep(self, h: Tensor) -> None:
        if self.config.stateful:
            self.state = h.detach()  # gradients stop at the batch boundary

    def get_state(self) -> dict[str, Tensor]:
        return {} if self.state is None else {"h": self.state}

    def set_state(self, tensors: dict[str, Tensor]) -> None:
        self.state = tensors.get("h")


class Unrolled3Encoder(LoopEncoder):
    """Model 0: the first three steps of the recurrence written out by hand, as in the
    course's first model. It reads at most 3 tokens (train it with bptt 3)."""

    kind = "lesson7-unrolled3"
    max_len = 3  # the longest batch it can read (checked before training starts)

    @classmethod
    def from_config(cls, config: dict) -> Unrolled3Encoder:
        return cls(LoopConfig(**config))

    def forward(self, x: Tensor) -> Tensor:
        if x.size(1) > 3:
            raise ValueError(
                f"model0 is unrolled for 3 tokens but got batches of {x.size(1)}; "
                f"use --bptt 3 --fixed-bptt, or model1 (the same model as a loop)"
            )
        h = self.initial_state(x)
        h = self.step(h, x[:, 0])  # token 1
        outs = [self.output(h)]
        if x.size(1) > 1:
            h = self.step(h, x[:, 1])  # token 2
            outs.append(self.output(h))
        if x.size(1) > 2:
            h = self.step(h, x[:, 2])  # token 3
            outs.append(self.output(h))
        self.keep(h)
        return torch.stack(outs, dim=1)
