"""Entities of a tagged sentence as plain dicts: what `seqlab predict --entities` prints and
`Predictor.predict(..., entities=True)` returns.

    {"text": "New York", "type": "LOC", "start": 3, "end": 5, "start_char": 12,
     "end_char": 20, "score": 0.97}

`start`/`end`: the entity's first word and one past its last; `start_char`/`end_char`: the
same in the text the words came from (`text[start_char:end_char] == entity["text"]`);
`score`: the mean over its words of the probability of the tag each was given (with a CRF, the
constrained marginals: how sure the tagger is of this span given the whole sentence).
"""

from __future__ import annotations

from collections.abc import Sequence

from seqlab_tagging import schemes


def entities(
    tags: Sequence[str],
    probs: Sequence[float],
    offsets: Sequence[tuple[int, int]],
    text: str,
    first_word: int = 0,
) -> list[dict]:
    """The entities of one sentence's `tags`; `offsets` locate its words in `text`;
    `first_word` is added to the word positions (a sentence inside a longer text)."""
    out = []
    for span in schemes.spans(tags):
        a, b = offsets[span.start][0], offsets[span.end - 1][1]
        score = sum(probs[span.start : span.end]) / (span.end - span.start) if probs else None
        out.append(
            {
                "text": text[a:b],
                "type": span.type,
                "start": first_word + span.start,
                "end": first_word + span.end,
                "start_char": a,
                "end_char": b,
                "score": None if score is None else round(score, 4),
            }
        )
    return out
