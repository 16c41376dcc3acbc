"""Span tag schemes: BIO (IOB2) and BIOES (IOBES), detected, checked, converted, read as spans.

    BIO    B-X begins an entity of type X, I-X continues it, O is outside.
    BIOES  as BIO, and E-X ends an entity of two or more tokens, S-X is a one-token entity.

A tag sequence is read as spans the lenient way conlleval and seqeval's default mode read it
(an I-X after O or after another type starts an entity), so `spans` never fails and a repaired
sequence (`repair`) keeps exactly the spans the metric counts. `allowed` gives the transitions
a valid sequence may take, which the tagger's CRF is constrained to (seqlab_tagging.crf).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

BIO, BIOES = "BIO", "BIOES"
SCHEMES = (BIO, BIOES)
_SPAN_TAG = re.compile(r"^(O|[BIES]-.+)$")
_NO_TYPE = re.compile(r"^[BIES]-?$")
_NUMBER = re.compile(r"^[-+]?\d+([.,]\d+)?$")


@dataclass(frozen=True)
class Span:
    type: str
    start: int  # first token
    end: int  # one past the last token


def split_tag(tag: str) -> tuple[str, str]:
    """("B", "PER") of "B-PER"; ("O", "") of "O"."""
    return (tag[0], tag[2:]) if tag != "O" else ("O", "")


def scheme_of(tags: Sequence[str]) -> str | None:
    """BIOES when every tag is O or B-/I-/E-/S- + a type and some is E-/S-; BIO when every
    tag is O, B- or I- + a type and some is B-; None for other tag sets (POS tags, roles)."""
    names = set(tags)
    if not names or not all(_SPAN_TAG.match(t) for t in names):
        return None
    if any(t[:2] in ("E-", "S-") for t in names):
        return BIOES
    return BIO if any(t[:2] == "B-" for t in names) else None


def spans(tags: Sequence[str]) -> list[Span]:
    """The entities of one sentence's tags (either scheme), read leniently (see above)."""
    out: list[Span] = []
    start, kind = None, ""
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, t = split_tag(tag)
        begins = prefix in ("B", "S") or (prefix in ("I", "E") and t != kind)
        if start is not None and (prefix == "O" or begins):
            out.append(Span(kind, start, i))
            start = None
        if prefix != "O" and start is None:
            start, kind = i, t
        if prefix in ("E", "S") and start is not None:
            out.append(Span(kind, start, i + 1))
            start = None
    return out


def to_tags(entities: Sequence[Span], n: int, scheme: str) -> list[str]:
    """The tags in `scheme` of `n` tokens holding `entities` (not overlapping)."""
    tags = ["O"] * n
    for s in entities:
        if scheme == BIOES and s.end - s.start == 1:
            tags[s.start] = f"S-{s.type}"
            continue
        tags[s.start] = f"B-{s.type}"
        for i in range(s.start + 1, s.end):
            tags[i] = f"I-{s.type}"
        if scheme == BIOES:
            tags[s.end - 1] = f"E-{s.type}"
    return tags


def convert(tags: Sequence[str], scheme: str) -> list[str]:
    """One sentence's tags in `scheme` (BIO <-> BIOES); also repairs an invalid sequence."""
    return to_tags(spans(tags), len(tags), scheme)


repair = convert  # a valid sequence is unchanged; an invalid one gets the spans conlleval reads


def types(tags: Sequence[str]) -> list[str]:
    """The entity types of a tag set, sorted."""
    return sorted({split_tag(t)[1] for t in tags if t != "O"})


def tag_set(entity_types: Sequence[str], scheme: str) -> list[str]:
    prefixes = "BIES" if scheme == BIOES else "BI"
    return ["O"] + [f"{p}-{t}" for t in entity_types for p in prefixes]


def allowed(tags: Sequence[str], scheme: str):
    """(trans, start, end) as nested bools: trans[i][j] whether tag j may follow tag i, start[j]
    whether a sentence may begin with tag j, end[i] whether one may end with tag i. Inside an
    entity of type X (after B-X or I-X) only I-X (and, BIOES, E-X) may follow; outside, no
    I-X (nor E-X); BIOES never begins or ends inside an entity."""
    parts = [split_tag(t) for t in tags]

    def may_follow(a: tuple[str, str], b: tuple[str, str]) -> bool:
        inside, continues = a[0] in ("B", "I"), b[0] in ("I", "E")
        if scheme == BIOES and inside:
            return continues and b[1] == a[1]
        if continues:
            return inside and b[1] == a[1]
        return True

    trans = [[may_follow(a, b) for b in parts] for a in parts]
    start = [p[0] not in ("I", "E") for p in parts]
    end = [scheme != BIOES or p[0] not in ("B", "I") for p in parts]
    return trans, start, end


def is_valid(tags: Sequence[str], scheme: str) -> bool:
    """Whether one sentence's tags take only allowed steps in `scheme`."""
    if not tags:
        return True
    parts = [split_tag(t) for t in tags]
    if any(p[0] not in ("O", "B", "I") + (("E", "S") if scheme == BIOES else ()) for p in parts):
        return False
    trans, start, end = allowed(list(tags), scheme)
    n = len(tags)
    return start[0] and end[n - 1] and all(trans[i][i + 1] for i in range(n - 1))


class SchemeError(ValueError):
    """A problem with a file's tags: (sentence index, word index, message)."""

    def __init__(self, sentence: int, word: int, message: str):
        super().__init__(message)
        self.sentence, self.word = sentence, word


def check(
    sentences: Sequence[Sequence[str]], words: Sequence[Sequence[str]] | None = None
) -> str | None:
    """The scheme of a training file's tags (None: not span tags), or a SchemeError at the
    first tag that makes the file unreadable as one: a `B-`/`I-` with no type, a tag column of
    numbers (or the words again) given by mistake, BIO and BIOES mixed."""
    flat = [(i, k, t) for i, s in enumerate(sentences) for k, t in enumerate(s)]
    for i, k, t in flat:
        if _NO_TYPE.match(t):
            raise SchemeError(
                i, k, f"tag {t!r} has no type; write it with one, e.g. {t[0]}-PER (or O)"
            )
    if flat and all(_NUMBER.match(t) for _, _, t in flat):
        i, k, t = flat[0]
        raise SchemeError(
            i,
            k,
            f"the tag column holds numbers ({t!r}, ...), not tags; set --tag-col to the tag column",
        )
    if words is not None and len(flat) >= 20:
        same = sum(t == words[i][k] for i, k, t in flat)
        if same > 0.9 * len(flat):
            i, k, t = flat[0]
            raise SchemeError(
                i,
                k,
                f"the tag column holds the words ({t!r}, ...), not tags; set --tag-col to "
                "the tag column",
            )
    scheme = scheme_of([t for _, _, t in flat])
    if scheme == BIOES:  # a BIO entity (B-X not followed by I-X or E-X) in a BIOES file
        for i, s in enumerate(sentences):
            for k, t in enumerate(s):
                nxt = s[k + 1] if k + 1 < len(s) else "O"
                p, kind = split_tag(t)
                if p in ("B", "I") and split_tag(nxt) not in (("I", kind), ("E", kind)):
                    raise SchemeError(
                        i,
                        k,
                        f"tag {t!r} ends an entity, as BIO writes it, but the file uses "
                        f"E-/S- (BIOES) elsewhere; write the file in one scheme (here E-{kind} "
                        f"or S-{kind}), e.g. with seqlab_tagging.schemes.convert",
                    )
    return scheme
