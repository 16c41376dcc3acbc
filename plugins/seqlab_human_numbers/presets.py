"""The six models of fastai lesson 7 (course v3, 2019) as named presets of `human-numbers`.

`seqlab pretrain human-numbers --model model3` trains one with the course's settings;
`seqlab lesson human-numbers` trains them all and compares with the course's figures.

Every preset sets every option that shapes the model, the data or the training, so a change
of `seqlab pretrain`'s defaults never changes a preset. What all six share is the course's:
an embedding of the 38-token vocab, 64 hidden units, batches of 64 rows, a separate output
layer (the course's h_o, not tied to the embedding), fastai's default weight decay 0.01, no
gradient clipping, no dropout, and one-cycle training with 30% warm-up unless said otherwise.
"""

from __future__ import annotations

from typing import Any

COURSE = {
    "bs": 64,
    "hidden": 64,
    "emb_size": 64,
    "layers": 1,
    "cell": "rnn",
    "bn": True,
    # The layout of fastai v1's LanguageModelPreLoader, which the course ran on, with a fixed
    # bptt: docs/tutorial.md shows what random bptt and the contiguous layout change.
    "layout": "fastai-v1",
    "random_bptt": False,
    "wd": 0.01,
    "clip": 0.0,
    "pct_start": 0.3,
    "emb_drop": 0.0,
    "input_drop": 0.0,
    "hidden_drop": 0.0,
    "weight_drop": 0.0,
    "out_drop": 0.0,
    "alpha": 0.0,
    "beta": 0.0,
}

SEPARATE_DECODER = {"tie": False}


def preset(help: str, course_accuracy: float, options: dict[str, Any], **extra) -> dict[str, Any]:
    return {
        "help": help,
        "reference": {"source": "course", "accuracy": course_accuracy},
        "options": {**COURSE, **options},
        "head": {**SEPARATE_DECODER, **extra.pop("head", {})},
        **extra,
    }


def presets() -> dict[str, dict[str, Any]]:
    """{name: preset} in the lesson's order (the format is described in seqlab.registry)."""
    return {
        "model0": preset(
            "3 tokens in, the 4th out: the recurrence unrolled by hand, bn inside it",
            0.409,
            {"bptt": 3, "epochs": 6, "lr": 1e-4},
            encoder_kind="lesson7-unrolled3",
            encoder={"bn_inside": True, "stateful": False},
            head={"last_only": True},
        ),
        "model1": preset(
            "model0 as a loop over the tokens (any sequence length)",
            0.393,
            {"bptt": 3, "epochs": 6, "lr": 1e-4},
            encoder_kind="lesson7-loop",
            encoder={"bn_inside": True, "stateful": False},
            head={"last_only": True},
        ),
        "model2": preset(
            "bptt 20, a prediction after every token, h reset to zero for every batch",
            0.350,
            {"bptt": 20, "epochs": 10, "lr": 1e-4, "pct_start": 0.1},
            encoder_kind="lesson7-loop",
            encoder={"bn_inside": False, "stateful": False},
        ),
        "model3": preset(
            "model2 keeping h from one batch to the next (detached: truncated BPTT)",
            0.443,
            {"bptt": 20, "epochs": 20, "lr": 3e-3},
            encoder_kind="lesson7-loop",
            encoder={"bn_inside": False, "stateful": True},
        ),
        "model4": preset(
            "nn.RNN doing the loop, batch norm before the output layer, state kept",
            0.615,
            {"bptt": 20, "epochs": 20, "lr": 3e-3, "cell": "rnn"},
        ),
        "model5": preset(
            "2-layer nn.GRU, batch norm before the output layer, state kept",
            0.807,
            {"bptt": 20, "epochs": 10, "lr": 1e-2, "cell": "gru", "layers": 2},
        ),
    }
