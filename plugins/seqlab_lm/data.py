"""The data of a language-model run: its corpus, the held-out tail, the backward stream and
the BPTT streams, all rebuilt from the run's config.json (so `--resume`, `evaluate` and
`tune-cache` read exactly the batches the run trained and validated on)."""

from __future__ import annotations

from typing import Any

import numpy as np

from seqlab import BOS, BPTTStream, Corpus, Vocab, registry
from seqlab.data.chartokens import char_corpus
from seqlab.train import distributed
from seqlab_lm import init, textdata


def holdout_split(docs: list[np.ndarray], fraction: float, bos: int) -> tuple[list, list]:
    """Cut the last `fraction` of the train tokens off as a validation set, for choosing
    settings without looking at the real validation split."""
    if not 0 < fraction < 1:
        raise ValueError(f"holdout must be in (0, 1), got {fraction}")
    total = sum(len(d) for d in docs)
    cut = total - int(total * fraction)
    train, held, seen = [], [], 0
    for d in docs:
        if seen + len(d) <= cut:
            train.append(d)
        elif seen >= cut:
            held.append(d)
        else:
            k = cut - seen
            train.append(d[:k])
            held.append(np.concatenate([np.array([bos], dtype=d.dtype), d[k:]]))
        seen += len(d)
    return train, held


def reverse_doc(doc: np.ndarray, bos: int) -> np.ndarray:
    """The document read backwards, still starting with xxbos (a backward LM sees the
    start-of-document marker first, as the forward one does)."""
    if len(doc) and doc[0] == bos:
        return np.concatenate([doc[:1], doc[:0:-1]])
    return doc[::-1].copy()


def registered_corpus(name: str, level: str = "word") -> Corpus:
    """A registered corpus, read as words, or as characters (its words joined by spaces)."""
    corpus = registry.corpus(name)
    return char_corpus(corpus) if level == "char" else corpus


def corpus_of(config: dict[str, Any]) -> Corpus:
    """The corpus a run config names: its text files' cache, or a registered corpus."""
    if config.get("text"):
        return textdata.corpus(config)
    return registered_corpus(config["corpus"], config.get("level", "word"))


def build_data(config: dict[str, Any]) -> tuple[BPTTStream, BPTTStream, Vocab]:
    """(train stream, valid stream, vocab) from a run config."""
    corpus = corpus_of(config)
    vocab, train_docs, valid_docs = corpus.vocab, corpus.split("train"), corpus.split("valid")
    if config.get("init"):  # the --init LM's vocab, extended: the text's ids mapped onto it
        vocab = init.vocab(config, corpus.vocab)
        train_docs = init.remap(train_docs, corpus.vocab, vocab)
        valid_docs = init.remap(valid_docs, corpus.vocab, vocab)
    data, bos = config["data"], vocab.stoi[BOS]
    if data.get("holdout"):
        train_docs, valid_docs = holdout_split(train_docs, data["holdout"], bos)
    if config["encoder"].get("backward"):  # same vocab, reversed stream (ULMFiT, Flair)
        train_docs = [reverse_doc(d, bos) for d in train_docs]
        valid_docs = [reverse_doc(d, bos) for d in valid_docs]
    common = {"bs": data["bs"], "bptt": data["bptt"], "layout": data["layout"]}
    common.update(rank=distributed.rank(), world_size=distributed.world_size())  # torchrun
    train = BPTTStream(
        train_docs,
        random_bptt=data["random_bptt"],
        shuffle=True,
        seed=config["train"]["seed"],
        **common,
    )
    valid = BPTTStream(valid_docs, **common)
    return train, valid, vocab
