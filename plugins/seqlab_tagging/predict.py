"""Tagging with a trained tagger, and the tagger's `seqlab predict`.

`seqlab predict RUN INPUT` reads INPUT in the format it finds (CoNLL-U for *.conllu or lines
of 10 tab fields, CoNLL columns when lines have tabs, else plain text: one sentence per line)
and writes one `word<TAB>tag` per line with a blank line between sentences. `--format conll`
or `--format conllu` writes the input's own lines with the predicted tag in the column or
field the tagger was trained on (CoNLL-U for plain-text input is built from scratch);
`--json` writes one {"words": [...], "tags": [...]} object per sentence; `--entities` (a
tagger of BIO/BIOES tags) one {"line", "text", "words", "entities"} object per sentence
(seqlab_tagging.entities; the character offsets index "text": the input line for plain text,
the words joined by spaces for CoNLL input). Plain text is split into sentences and words by
seqlab_tagging.rawtext.

`TaggerPredictor` is the Python facade's (`seqlab.load(RUN).predict(...)`); it and the command
tag through the same `tag_with_probs`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import torch

from seqlab.api import Predictor
from seqlab.store.errors import CheckpointError
from seqlab.train.trainer import resolve_device
from seqlab_tagging import data, rawtext, schemes
from seqlab_tagging.entities import entities as entity_list
from seqlab_tagging.metrics import span_scheme
from seqlab_tagging.readers import Sentence, guess_format, parse, read_text, split_lines
from seqlab_tagging.writers import WRITE_FORMATS, write


def tag(
    model,
    vocab,
    sentences: Sequence[Sequence[str]],
    bs: int = 64,
    device: torch.device | str = "cpu",
) -> list[list[str]]:
    """Predicted tags of each sentence (a list of words), in input order."""
    return [tags for tags, _ in tag_with_probs(model, vocab, sentences, bs, device, probs=False)]


@torch.no_grad()
def tag_with_probs(
    model,
    vocab,
    sentences: Sequence[Sequence[str]],
    bs: int = 64,
    device: torch.device | str = "cpu",
    probs: bool = True,
) -> list[tuple[list[str], list[float]]]:
    """(tags, probability of each chosen tag) of each sentence, in input order. Softmax head:
    the tag's softmax probability; CRF: its marginal probability given the whole sentence
    (forward-backward), which for a Viterbi tag may be below another tag's. An empty sentence
    gets no tags. `probs=False` skips computing them ([] each)."""
    out: list[tuple[list[str], list[float]]] = [([], []) for _ in sentences]
    todo = [i for i, words in enumerate(sentences) if len(words)]
    if not todo:
        return out
    featurizer = getattr(model.encoder, "featurizer", None)  # a tagger with word features
    dl = data.batches([(sentences[i], None) for i in todo], vocab, None, bs, featurizer=featurizer)
    model.to(device).eval()
    head = model.head
    for idx, batch in zip(dl.plan(), dl, strict=True):
        assert batch.mask is not None  # PaddedBatches always gives one
        mask = batch.mask.to(device)
        scores = model(batch.x.to(device), mask)
        paths = head.decode(scores, mask)
        if probs:
            p = head.crf.marginals(scores, mask) if head.crf is not None else scores.softmax(-1)
            # the chosen tags' probabilities at once (word by word cost 8 us a word): p[mask]
            # is the real words row by row, the order of the paths joined
            flat = torch.tensor([j for ids in paths for j in ids], device=p.device)
            chosen = p[mask].gather(1, flat[:, None])[:, 0].tolist()
        start = 0
        for i, ids in zip(idx, paths, strict=True):
            got = chosen[start : start + len(ids)] if probs else []
            out[todo[i]] = (head.names(ids), got)
            start += len(ids)
    return out


def check_entities(tags: list[str], where) -> None:
    """Entities need span tags: a POS tagger asked for them is one line."""
    if span_scheme(tags) is None:
        shown = ", ".join(tags[:4]) + (", ..." if len(tags) > 4 else "")
        raise ValueError(
            f"{where}: this tagger's tags ({shown}) are not BIO/BIOES span tags, so it finds "
            "no entities; drop --entities (or train on named-entity data)"
        )


class TaggerPredictor(Predictor):
    """`seqlab.load(...)` of a tagger: predict() gives {"words", "tags", "probs"} per text (a
    text is split into sentences and words as `seqlab predict` splits plain text, and its
    sentences' words and tags joined again; a word list is taken as it is). "probs": the
    probability of each chosen tag (see `tag_with_probs`). With `entities=True` (span tags
    only) also "entities": seqlab_tagging.entities' dicts, character offsets into the text
    (a word list: into its words joined by spaces)."""

    kind = "tag"

    def _predict(
        self, items: list[str | list[str]], bs: int, entities: bool = False, **options
    ) -> list[dict]:
        if options:
            raise TypeError(f"a tagger's predict takes no {', '.join(options)}")
        if entities:
            check_entities(self.labels, self.path)
        pieces = []  # (item index, words, offsets) of every sentence
        for i, item in enumerate(items):
            if isinstance(item, str):
                pieces += [(i, x.words, x.offsets) for x in rawtext.split(item)]
            else:
                pieces.append((i, item, rawtext.spaced(item)))
        tagged = tag_with_probs(self.model, self.vocab, [w for _, w, _ in pieces], bs, self.device)
        out: list[dict] = [{"words": [], "tags": [], "probs": []} for _ in items]
        written = (self.meta.get("tag_data") or {}).get("scheme")
        for (i, words, offsets), (tags, probs) in zip(pieces, tagged, strict=True):
            if written and written != span_scheme(self.labels):
                tags = schemes.convert(tags, written)
            d = out[i]
            if entities:
                item = items[i]
                text = item if isinstance(item, str) else " ".join(item)
                d.setdefault("entities", []).extend(
                    entity_list(tags, probs, offsets, text, len(d["words"]))
                )
            d["words"] += list(words)
            d["tags"] += tags
            d["probs"] += probs
        if entities:
            for d in out:
                d.setdefault("entities", [])
        return out


def sentence_entities(s: Sentence, tags: list[str], probs: list[float]) -> dict:
    """One line of `--entities`: plain text's offsets index its input line; CoNLL input's
    its words joined by spaces."""
    if s.offsets is not None:
        text, offsets = s.lines[0], s.offsets
    else:
        text, offsets = " ".join(s.words), rawtext.spaced(s.words)
    return {
        "line": s.line_no,
        "text": text,
        "words": s.words,
        "entities": entity_list(tags, probs, offsets, text),
    }


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


def check_tag_data(tag_data, where) -> None:
    """How the tagger reads input columns, as its checkpoint says (an edited file: one line)."""
    kinds = {"word_col": int, "tag_col": int, "tag_field": str}
    if (
        not isinstance(tag_data, dict)
        or not all(
            isinstance(tag_data.get(k), t) and not isinstance(tag_data.get(k), bool)
            for k, t in kinds.items()
        )
        or tag_data.get("scheme", "BIO") not in schemes.SCHEMES
    ):
        raise CheckpointError(
            f"{where}: field 'tag_data' must be an object with word_col, tag_col (whole "
            f"numbers), tag_field (a string) and optionally scheme (BIO or BIOES)"
        )


def predict(request) -> None:
    """The `seqlab.predictors` entry point for runs with a "tag" head."""
    fmt = request.format or "tsv"
    if fmt not in WRITE_FORMATS:
        raise ValueError(f"--format {fmt}: a tagger writes {', '.join(WRITE_FORMATS)}")
    model, vocab, meta = request.load()
    tag_data = meta.get("tag_data", {"word_col": 1, "tag_col": -1, "tag_field": "upos"})
    check_tag_data(tag_data, request.run_dir)
    sentences = read_input(request, tag_data)
    words = [s.words for s in sentences]
    written = tag_data.get("scheme")  # learnt in another scheme: written in the file's
    if request.entities:
        if request.format:
            raise ValueError("--entities writes JSON lines: drop --format")
        check_entities(list(model.head.tags), request.run_dir)
        tagged = tag_with_probs(model, vocab, words, request.bs, resolve_device(request.device))
        for s, (t, probs) in zip(sentences, tagged, strict=True):
            request.out.write(json.dumps(sentence_entities(s, t, probs)) + "\n")
        return
    tags = tag(model, vocab, words, request.bs, resolve_device(request.device))
    if written and written != span_scheme(model.head.tags):
        tags = [schemes.convert(t, written) for t in tags]
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


predict.entities = True  # type: ignore[attr-defined]  # `seqlab predict --entities` works here
