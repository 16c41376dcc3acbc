"""Predicting with a classifier: `seqlab predict RUN_DIR ...` (label and probability per text)
and the Python facade's `ClassifierPredictor`, both through `class_probabilities`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from seqlab import BOS, PaddedBatches, SeqModel, StatefulEncoder, Vocab
from seqlab.api import Predictor
from seqlab.data.labelled import DataError, read_examples, tsv_field
from seqlab.store.errors import CheckpointError
from seqlab.tasks.predict import PredictRequest, load_any
from seqlab.train.trainer import resolve_device
from seqlab_classify.data import encode
from seqlab_classify.explain import format_line, top_ngrams
from seqlab_classify.ngram_encoder import NgramEncoder
from seqlab_classify.ngrams import Hasher

FORMATS = ("lines", "csv", "tsv", "jsonl")


def reads_backward(encoder: Any) -> bool:
    """Whether the classifier gives its encoder each text reversed: a single backward LM
    does (ULMFiT's backward classifier); a stack of LMs reads forward and flips inside."""
    if isinstance(encoder, NgramEncoder):
        encoder = encoder.inner
    return isinstance(encoder, StatefulEncoder) and encoder.config.backward


def hasher_of(encoder: Any) -> Hasher | None:
    """The n-gram hasher of a classifier with the n-gram channel (its checkpoint's spec), else
    None: the texts are then token ids alone."""
    return encoder.hasher if isinstance(encoder, NgramEncoder) else None


@torch.no_grad()
def probabilities(
    model: SeqModel,
    seqs: list[np.ndarray],
    pad_idx: int,
    bs: int = 64,
    device: torch.device | str = "cpu",
) -> np.ndarray:
    """(n, n_classes) class probabilities, in the order of `seqs`."""
    model.eval().to(device)
    batches = PaddedBatches(seqs, bs=bs, pad_idx=pad_idx)
    parts, order = [], []
    for idx, batch in zip(batches.plan(), batches, strict=True):
        b = batch.to(device)
        parts.append(torch.softmax(model(b.x, b.mask).float(), dim=-1).cpu().numpy())
        order.append(idx)
    out = np.empty_like(np.concatenate(parts))
    out[np.concatenate(order)] = np.concatenate(parts)  # back to the order of `seqs`
    return out


def class_probabilities(
    model: SeqModel,
    vocab: Vocab,
    items: Sequence[str | Sequence[str]],
    bs: int = 64,
    device: torch.device | str = "cpu",
    level: str = "word",
) -> np.ndarray:
    """(n, n_classes) probabilities of texts (tokenized as in training) or word lists (taken
    as they are; a char-level model reads them joined by spaces), read in the direction of
    the model's encoder."""
    backward, hasher = reads_backward(model.encoder), hasher_of(model.encoder)
    seqs = [
        encode([t if isinstance(t, str) else " ".join(t)], vocab, backward, level, hasher)[0]
        if isinstance(t, str) or level == "char" or hasher is not None
        else vocab.encode([BOS, *(reversed(t) if backward else t)])
        for t in items
    ]
    return probabilities(model, seqs, vocab.pad_idx, bs, device)


class ClassifierPredictor(Predictor):
    """`seqlab.load(...)` of a classifier: predict() gives {"label", "probs": {label: p}}."""

    kind = "classify"

    def _predict(
        self, items: list[str | list[str]], bs: int, explain: bool = False, **options
    ) -> list[dict]:
        """`explain=True` adds "explain": the n-grams that weighed most toward the label
        (seqlab_classify.explain.top_ngrams)."""
        if options:
            raise TypeError(f"a classifier's predict takes no {', '.join(options)}")
        if not items:
            return []
        labels, level = self.labels, run_level(self.meta)
        probs = class_probabilities(self.model, self.vocab, items, bs, self.device, level)
        out: list[dict] = [
            {
                "label": labels[int(p.argmax())],
                "probs": {c: float(q) for c, q in zip(labels, p, strict=True)},
            }
            for p in probs
        ]
        if explain:
            backward = reads_backward(self.model.encoder)
            self.model.cpu()
            for item, record, p in zip(items, out, probs, strict=True):
                text = item if isinstance(item, str) else " ".join(item)
                record["explain"] = top_ngrams(
                    self.model, self.vocab, text, level, backward, int(p.argmax())
                )
            self.model.to(self.device)
        return out


def read_inputs(request: PredictRequest, text_col: str) -> list[tuple[int, str]]:
    """(line, text) of every input."""
    fmt = request.format or "lines"
    if fmt not in FORMATS:
        raise DataError(f"--format {fmt}: a classifier reads {', '.join(FORMATS)}")
    if request.texts is not None or fmt == "lines":
        items = list(request.lines())
        for line, text in items:
            if not text.strip():
                raise DataError(
                    f"{request.source}, line {line}: empty text; remove blank lines "
                    f"(each line is one text to classify)"
                )
        return items
    assert request.input is not None  # the core gives texts or an input
    examples = read_examples(
        request.input, text_col, None, fmt, text=request.read_text(), skip_hint=False
    )
    return [(e.line, e.text) for e in examples]


def run_level(meta: dict) -> str:
    """What a token is to a classifier run (runs from before char-level classifiers: words)."""
    return str(meta.get("level", "word"))


def predict(request: PredictRequest) -> None:
    model, vocab, meta = request.load()
    classes, data = meta.get("labels"), meta.get("data", {})
    if not isinstance(classes, list) or not isinstance(data, dict):
        raise CheckpointError(f"{request.run_dir}: field 'labels' or 'data' missing or malformed")
    items = read_inputs(request, str(data.get("text_col", "text")))
    texts, device = [t for _, t in items], resolve_device(request.device)
    probs = class_probabilities(model, vocab, texts, request.bs, device, run_level(meta))
    for path in request.others:  # an ensemble (e.g. forward + backward): the mean probability
        other, other_vocab, other_meta = load_any(path)
        if other_meta["labels"] != classes:
            raise DataError(
                f"{path}: its classes ({', '.join(other_meta['labels'])}) are not those of "
                f"{request.run_dir} ({', '.join(classes)}); an ensemble needs the same classes"
            )
        probs = probs + class_probabilities(
            other, other_vocab, texts, request.bs, device, run_level(other_meta)
        )
    probs = probs / (1 + len(request.others))
    if request.explain and request.others:
        raise ValueError("explain: give one run; an ensemble's members weigh n-grams apart")
    if request.explain:
        model.cpu()
    backward = reads_backward(model.encoder)
    for (line, text), p in zip(items, probs, strict=True):
        best = int(p.argmax())
        why = (
            top_ngrams(model, vocab, text, run_level(meta), backward, best)
            if request.explain
            else None
        )
        if request.as_json:
            record = {
                "line": line,
                "text": text,
                "label": classes[best],
                "probability": round(float(p[best]), 6),
                "probabilities": {c: round(float(q), 6) for c, q in zip(classes, p, strict=True)},
            }
            if why is not None:
                record["explain"] = why
            request.out.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            request.out.write(f"{classes[best]}\t{p[best]:.4f}\t{tsv_field(text)}\n")
            if why is not None:
                request.out.write(format_line(why) + "\n")


predict.averages = True  # type: ignore[attr-defined]  # several runs: mean probabilities
predict.explains = True  # type: ignore[attr-defined]  # --explain: the n-grams that weighed most
