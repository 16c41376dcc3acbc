"""A minimal head, so core tests exercise the trainer without any plugin."""

import torch.nn.functional as F
from torch import nn

from seqlab import Head


class TinyLMHead(Head):
    kind = "tiny-lm"

    def __init__(self, encoder):
        super().__init__()
        self.decoder = nn.Linear(encoder.out_size, encoder.config.vocab_size)

    def forward(self, hidden, mask=None):
        return self.decoder(hidden)

    def loss(self, out, batch):
        return F.cross_entropy(out.flatten(0, 1), batch.y.flatten())

    def eval_step(self, out, batch):
        return {"correct": int((out.argmax(-1) == batch.y).sum()), "n": batch.y.numel()}

    def reduce(self, steps, loss):
        return {"accuracy": sum(s["correct"] for s in steps) / sum(s["n"] for s in steps)}
