"""Bits per character of a character LM checkpoint on a text: the figure its card records,
and what the test checks the shipped files reproduce."""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F

from seqlab.data.chartokens import CharEncoder
from seqlab.store.checkpoint import load_model
from seqlab_lm.data import reverse_doc

# the last 20,000 characters of english-text's held-out tail (WikiText-2 valid, prepared)
SAMPLE = Path(__file__).parent / "lms" / "heldout.txt"


@torch.no_grad()
def bits_per_char(stem: Path, text: str) -> float:
    """The LM reads `text` as one document from a zero state, in its own direction."""
    model, vocab, meta = load_model(stem)
    ids = CharEncoder(vocab).documents(text, doc_start=True).astype("int64")
    if meta["encoder"].get("backward"):
        ids = reverse_doc(ids, vocab.bos_idx)
    x = torch.from_numpy(ids)
    model.eval()
    model.reset()
    logits = model.head.logits(model.encoder(x[None, :-1]))  # an LM head's decoder
    return F.cross_entropy(logits[0], x[1:]).item() / math.log(2)
