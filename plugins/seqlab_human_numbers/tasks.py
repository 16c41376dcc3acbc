"""Classification datasets from human numbers: the label of a number's words is n mod k.

Low-resource on purpose (the setting where LM pretraining should pay): 500 numbers drawn from
1..8,000 (the LM's train range) to train on, all of 8,001..9,999 to test on. The draw is fixed
(seed 0), so every run and every model seed sees the same 500.

Registered in the entry-point group `seqlab.datasets`; `seqlab finetune classify` finds them
by name. An example is (text, label).
"""

from __future__ import annotations

import numpy as np

from seqlab_human_numbers.corpus import SPLITS
from seqlab_human_numbers.numbers import text

N_TRAIN = 500
SEED = 0


def train_numbers() -> list[int]:
    numbers = np.array(SPLITS["train"])
    return np.random.default_rng(SEED).choice(numbers, N_TRAIN, replace=False).tolist()


def dataset(label, description: str) -> dict:
    return {
        "task": "classify",
        "description": description,
        "train": [(text(n), label(n)) for n in train_numbers()],
        "test": [(text(n), label(n)) for n in SPLITS["valid"]],
    }


def parity() -> dict:
    return dataset(
        lambda n: "even" if n % 2 == 0 else "odd",
        "is the number even or odd? 500 numbers from 1..8,000; test 8,001..9,999",
    )


def mod3() -> dict:
    return dataset(
        lambda n: str(n % 3),
        "the number mod 3 (0, 1, 2); 500 numbers from 1..8,000; test 8,001..9,999",
    )
