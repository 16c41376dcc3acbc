"""Tagged sentences -> token ids and tag ids -> padded, length-bucketed batches.

An example is a (words, tags) pair of equal-length lists. The word vocab is the pretrained
LM's, extended by the training words it lacks (so a word seen only in pretraining keeps its
embedding); tag ids follow the training set's tags, sorted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from seqlab import PAD, UNK, PaddedBatches, Vocab
from seqlab_tagging.features import CHARS, Featurizer

Example = tuple[Sequence[str], Sequence[str] | None]  # (words, tags); None: unlabelled


def encode_words(vocab: Vocab, words: Sequence[str]) -> np.ndarray:
    # a literal "xxpad" in the text must not look like padding to the encoder
    return vocab.encode(UNK if w == PAD else w for w in words)


def word_vocab(examples: Sequence[Example], min_freq: int = 1) -> Vocab:
    """The training words seen at least `min_freq` times; rarer ones read as xxunk, so
    xxunk learns what a word never seen in training looks like."""
    return Vocab.build(Counter(w for words, _ in examples for w in words), min_freq=min_freq)


# Words per row a batch may pad to before it holds fewer rows: beyond any sentence of GUM
# or CoNLL-2003 (134 and 124 words), so their batches are as without a budget.
ROW_BUDGET = 256


def tag_list(examples: Sequence[Example]) -> list[str]:
    return sorted({t for _, tags in examples for t in tags or ()})


def batches(
    examples: Sequence[Example],
    vocab: Vocab,
    tags: Sequence[str] | None,
    bs: int,
    shuffle: bool = False,
    seed: int = 0,
    max_tokens: int | None = -1,
    featurizer: Featurizer | None = None,
) -> PaddedBatches:
    """Batches of `examples`; with `tags` None, unlabelled (for prediction). With a
    `featurizer`, each word is a row of feature ids (x is (n, L, COLUMNS)), else its id.
    `max_tokens` (-1: `bs * ROW_BUDGET`; None: no budget) bounds a batch's padded positions,
    so a very long sentence is batched alone instead of padding `bs - 1` others to its length."""
    if max_tokens == -1:
        max_tokens = bs * ROW_BUDGET
    sizes = None
    if featurizer is None:
        seqs = [encode_words(vocab, words) for words, _ in examples]
    else:
        seqs = [featurizer.encode(words, vocab) for words, _ in examples]
        if not shuffle:  # prediction, validation: sorted by characters, a space per word
            # included (what a character LM reads, and pads to the longest row of)
            sizes = [int((s[:, CHARS:] != featurizer.chars.pad_idx).sum()) + len(s) for s in seqs]
    labels = None
    if tags is not None:
        index = {t: i for i, t in enumerate(tags)}
        labels = [np.array([index[t] for t in ts or ()], dtype=np.int64) for _, ts in examples]
    return PaddedBatches(
        seqs,
        labels,
        bs=bs,
        max_tokens=max_tokens,
        shuffle=shuffle,
        seed=seed,
        pad_idx=vocab.pad_idx,
        sizes=sizes,
    )
