"""Why a text got its label: the n-grams that weighed most toward it.

Each n-gram entry's weight is its vector times the gradient of the predicted class's logit
with respect to the bag it went into (gradient x input). With `--ngram-join convex` or
`logits`, or the n-grams alone, the logit is linear in the n-gram vectors, so the weights
are exact: they add up, with the encoder's part and the bias, to the logit. Joined at the
features, the MLP's ReLU makes them a first-order estimate. An n-gram seen twice in a text
counts twice.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import torch

from seqlab import SeqModel, Vocab
from seqlab_classify.data import encode, tokens
from seqlab_classify.ngram_encoder import NgramEncoder
from seqlab_classify.ngrams import CHAR, SHAPE, grams_at, word_spans

TOP = 5  # n-grams listed per prediction
KINDS = {CHAR: "char", SHAPE: "shape"}  # an n-gram's kind in the output ("word" otherwise)


def top_ngrams(
    model: SeqModel,
    vocab: Vocab,
    text: str,
    level: str,
    backward: bool,
    label: int | None = None,
    top: int = TOP,
) -> list[dict]:
    """The `top` n-grams of `text` with the largest weight toward class `label` (default: the
    predicted one): [{"ngram", "kind" ("word", "shape" or "char"), "weight"}], largest first."""
    encoder = model.encoder
    if not isinstance(encoder, NgramEncoder):
        raise ValueError(
            "explain: this classifier has no n-gram channel (trained with --no-ngrams); "
            "retrain it without that flag to see which n-grams weigh"
        )
    model.eval()
    row = encode([text], vocab, backward, level, encoder.hasher)[0]
    x = torch.from_numpy(row.astype(np.int64))[None]
    with torch.enable_grad():
        inner, sums, counts = encoder.parts(x)
        sums = sums.detach().requires_grad_(True)
        own = [inner.detach()] if inner is not None else []
        logits = model.head(torch.cat([*own, sums, counts], dim=-1), None)
        target = int(logits[0].argmax()) if label is None else label
        logits[0, target].backward()
    assert sums.grad is not None
    ids = encoder.bucket_ids(x)[0]  # (L, K)
    with torch.no_grad():
        vectors = encoder.bag.weight[ids] * encoder.idf[ids][..., None]  # as the bag weighs them
        grad = sums.grad[0].view(len(ids), encoder.blocks, encoder.dim)  # each block's bag
        at_entry = grad[torch.arange(len(ids))[:, None], encoder.block_of(ids)]  # (L, K, dim)
        weights = (vectors * at_entry).sum(-1).numpy()
    n = len(row)
    spans = word_spans(text, level, tokens(text, level), encoder.spec.spaced)
    at = grams_at(spans, n, encoder.spec)
    total: dict[tuple[str, str], float] = defaultdict(float)
    for q in range(n):
        forward_pos = n - q if backward and q else q  # a backward LM read the rows reversed
        for k, gram in enumerate(at[forward_pos]):
            total[gram] += float(weights[q, k])
    ranked = sorted(total.items(), key=lambda kv: -kv[1])[:top]
    return [
        {"ngram": g, "kind": KINDS.get(kind, "word"), "weight": round(w, 4)}
        for (kind, g), w in ranked
    ]


def format_line(explained: list[dict]) -> str:
    """`  because: "the" 0.41, <th (char) 0.12` for the plain-text output."""
    parts = [
        f'"{e["ngram"]}"'
        + ("" if e["kind"] == "word" else f" ({e['kind']})")
        + f" {e['weight']:+.3g}"
        for e in explained
    ]
    return "  because: " + ", ".join(parts)
