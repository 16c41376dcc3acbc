"""`seqlab predict RUN_DIR ...` for classifier runs: label and probability per text."""

from __future__ import annotations

import json

import numpy as np
import torch

from seqlab import PaddedBatches, SeqModel, load_model
from seqlab.predict import PredictRequest
from seqlab.train import resolve_device
from seqlab_classify.data import encode
from seqlab_classify.readers import DataError, read_examples

FORMATS = ("lines", "csv", "tsv", "jsonl")


@torch.no_grad()
def probabilities(
    model: SeqModel, seqs: list[np.ndarray], bs: int = 64, device: torch.device | str = "cpu"
) -> np.ndarray:
    """(n, n_classes) class probabilities, in the order of `seqs`."""
    model.eval().to(device)
    batches = PaddedBatches(seqs, bs=bs, pad_idx=model.encoder.config.pad_idx)
    parts, order = [], []
    for idx, batch in zip(batches.plan(), batches, strict=True):
        b = batch.to(device)
        parts.append(torch.softmax(model(b.x, b.mask).float(), dim=-1).cpu().numpy())
        order.append(idx)
    out = np.empty_like(np.concatenate(parts))
    out[np.concatenate(order)] = np.concatenate(parts)  # back to the order of `seqs`
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
    examples = read_examples(request.input, text_col, None, fmt, text=request.read_text())
    return [(e.line, e.text) for e in examples]


def predict(request: PredictRequest) -> None:
    model, vocab, meta = load_model(request.stem)
    classes = meta["labels"]
    items = read_inputs(request, meta.get("data", {}).get("text_col", "text"))
    probs = probabilities(
        model, encode([t for _, t in items], vocab), request.bs, resolve_device(request.device)
    )
    for (line, text), p in zip(items, probs, strict=True):
        best = int(p.argmax())
        if request.as_json:
            record = {
                "line": line,
                "text": text,
                "label": classes[best],
                "probability": round(float(p[best]), 6),
                "probabilities": {c: round(float(q), 6) for c, q in zip(classes, p, strict=True)},
            }
            request.out.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            request.out.write(f"{classes[best]}\t{p[best]:.4f}\t{text}\n")
