"""Tagging with a trained tagger, and the tagger's `seqlab predict`.

`seqlab predict RUN INPUT` reads INPUT in the format it finds (CoNLL-U for *.conllu or lines
of 10 tab fields, CoNLL columns when lines have tabs, else plain text: one sentence per line)
and writes one `word<TAB>tag` per line with a blank line between sentences. `--format conll`
or `--format conllu` writes the input's own lines with the predicted tag in the column or
field the tagger was trained on (CoNLL-U for plain-text input is built from scratch);
`--json` writes one {"words": [...], "tags": [...]} object per sentence.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import torch

from seqlab import load_model
from seqlab.train import resolve_device
from seqlab_tagging import data
from seqlab_tagging.readers import Sentence, guess_format, parse, read_text, split_lines
from seqlab_tagging.writers import WRITE_FORMATS, write


@torch.no_grad()
def tag(
    model,
    vocab,
    sentences: Sequence[Sequence[str]],
    bs: int = 64,
    device: torch.device | str = "cpu",
) -> list[list[str]]:
    """Predicted tags of each sentence (a list of words), in input order."""
    featurizer = getattr(model.encoder, "featurizer", None)  # a tagger with word features
    dl = data.batches(
        [(words, None) for words in sentences], vocab, None, bs, featurizer=featurizer
    )
    model.to(device).eval()
    out: list[list[str]] = [[] for _ in sentences]
    for idx, batch in zip(dl.plan(), dl, strict=True):
        assert batch.mask is not None  # PaddedBatches always gives one
        mask = batch.mask.to(device)
        scores = model(batch.x.to(device), mask)
        for i, ids in zip(idx, model.head.decode(scores, mask), strict=True):
            out[i] = model.head.names(ids)
    return out


def read_input(request, tag_data: dict) -> list[Sentence]:
    if request.texts is not None:
        return read_text(list(request.texts), "--text")
    lines = split_lines(request.read_text())
    fmt = guess_format(request.source, lines)
    if fmt == "text" and request.format == "conll":
        fmt = "conll"  # one word per line, no tag column: words-only CoNLL, not text
    return parse(
        lines,
        request.source,
        fmt,
        tag_data["word_col"],
        tag_data["tag_col"],
        tag_data["tag_field"],
        need_tags=False,
    )


def predict(request) -> None:
    """The `seqlab.predictors` entry point for runs with a "tag" head."""
    fmt = request.format or "tsv"
    if fmt not in WRITE_FORMATS:
        raise ValueError(f"--format {fmt}: a tagger writes {', '.join(WRITE_FORMATS)}")
    model, vocab, meta = load_model(request.stem)
    tag_data = meta.get("tag_data", {"word_col": 1, "tag_col": -1, "tag_field": "upos"})
    sentences = read_input(request, tag_data)
    tags = tag(
        model, vocab, [s.words for s in sentences], request.bs, resolve_device(request.device)
    )
    if request.as_json:
        for s, t in zip(sentences, tags, strict=True):
            request.out.write(json.dumps({"words": s.words, "tags": t}) + "\n")
        return
    write(
        request.out,
        fmt,
        sentences,
        tags,
        tag_data["tag_col"],
        tag_data["word_col"],
        tag_data["tag_field"],
    )
