"""The tagging task for the fine-tuning skeleton (seqlab.finetune): settings, data, model, score.

    LM run(s) -> encoders, LM vocab extended by the training words -> TaggerEncoder (fwd [+
    bwd], outputs joined per word) -> TagHead (softmax or CRF)

`--from-scratch` trains the same architecture from random weights (the baseline).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from seqlab import SeqModel, Vocab, registry, transfer
from seqlab.finetune import Built, FinetuneSettings, Scores
from seqlab.settings import SettingError, setting
from seqlab.train import resolve_device
from seqlab_tagging import data
from seqlab_tagging.encoder import TaggerEncoder
from seqlab_tagging.head import TagHead
from seqlab_tagging.metrics import report, scores, span_scheme
from seqlab_tagging.predict import tag
from seqlab_tagging.readers import CONLLU_FIELDS, FORMATS, Sentence, read


@dataclass
class TagSettings(FinetuneSettings):
    backward_encoder: Path | None = setting(None, "Backward LM run directory.", cli=False)
    discriminative: bool | None = setting(
        False,
        "Lower layers train at lower learning rates (ULMFiT). Off by default for tagging: on "
        "both demo and GUM valid splits the lower layers of a small LM needed to move "
        "(docs/tagging.md).",
    )
    unfreeze: bool | None = setting(
        None,
        "Gradual unfreezing: the head first, then one more layer group per epoch. "
        "[default: on with a pretrained encoder, off from scratch]",
    )
    fmt: str = setting(
        "auto",
        "Input format; auto: conllu for *.conllu files or lines of 10 tab fields, else "
        "conll columns.",
        choices=("auto", *FORMATS[:2]),
        cli=False,
    )
    word_col: int = setting(1, "CoNLL: column of the word (1-based; negative counts from the end).")
    tag_col: int = setting(-1, "CoNLL: column of the tag (1-based; -1 is the last column).")
    tag_field: str = setting(
        "upos", "CoNLL-U: the field to learn and predict.", choices=CONLLU_FIELDS[2:]
    )
    min_freq: int = setting(
        1,
        "Training words seen fewer times read as xxunk (so xxunk learns what an unseen word "
        "looks like); the LM's own words are always kept.",
        min=1,
    )
    crf: bool = setting(
        False,
        "Linear-chain CRF with Viterbi decoding instead of a per-token softmax (learns which "
        "tag may follow which).",
    )
    out_drop: float = setting(
        0.1, "Dropout on the encoder outputs, before the tag layer.", min=0, max=1, max_open=True
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.backward_encoder is not None and not isinstance(self.backward_encoder, Path):
            self.backward_encoder = Path(self.backward_encoder)
        if self.word_col == self.tag_col:
            raise SettingError(
                "word_col", f"and --tag-col are both {self.word_col}: they must differ"
            )


@dataclass
class TagData:
    splits: dict[str, list[data.Example]]  # (words, tags) examples per split

    @property
    def tags(self) -> list[str]:
        return data.tag_list(self.splits["train"])


def pretrained(path: Path | None, option: str, backward: bool) -> transfer.Pretrained | None:
    """The LM encoder of the run at `path`, checked to read in the right direction."""
    if path is None:
        return None
    pre = transfer.load_pretrained(path)
    if pre.config.backward != backward:
        read_as = "backward" if pre.config.backward else "forward"
        other = "--backward-encoder" if pre.config.backward else "--encoder"
        raise ValueError(f"{option} {path}: this LM reads {read_as}; pass it as {other}")
    return pre


class Tagging:
    name: ClassVar[str] = "tag"
    settings: ClassVar[type[FinetuneSettings]] = TagSettings

    def read(self, s: TagSettings) -> TagData:
        if s.encoder is None:
            raise ValueError("give --encoder RUN_DIR (a `seqlab pretrain` run) to fine-tune on")
        if (s.dataset is None) == (s.train is None):
            raise ValueError("give either DATASET (e.g. human-numbers-roles) or --train FILE")
        if s.dataset is not None:
            if s.valid or s.test:
                raise ValueError("--valid/--test go with --train, not with a DATASET")
            splits = from_registry(s.dataset)
        else:
            if s.valid is None and s.test is None:
                raise ValueError("give --valid FILE (and optionally --test FILE) with --train")
            splits = from_files(s)
        pretrained(s.encoder, "--encoder", backward=False)  # the direction, checked early
        pretrained(s.backward_encoder, "--backward-encoder", backward=True)
        return TagData(splits)

    def build(self, d: TagData, s: TagSettings) -> Built:
        fwd_pre = pretrained(s.encoder, "--encoder", backward=False)
        bwd_pre = pretrained(s.backward_encoder, "--backward-encoder", backward=True)
        assert fwd_pre is not None  # read() insists on --encoder
        model, vocab = build_model(fwd_pre, bwd_pre, d, s)
        tags = d.tags
        valid = d.splits["valid" if "valid" in d.splits else "test"]
        return Built(
            model=model,
            vocab=vocab,
            train_dl=data.batches(d.splits["train"], vocab, tags, s.bs, shuffle=True, seed=s.seed),
            valid_dl=data.batches(valid, vocab, tags, s.bs),
            meta={
                "encoder_kind": TaggerEncoder.kind,
                "encoder": model.encoder.to_dict(),
                "head": {"kind": TagHead.kind, "config": model.head.config()},
                "tag_data": {
                    "word_col": s.word_col,
                    "tag_col": s.tag_col,
                    "tag_field": s.tag_field,
                },
            },
            pretrained=not s.from_scratch,
            # the headline metric, not valid_loss: a tagger's loss rises from overconfidence
            # while its accuracy still improves
            best_by="f1" if span_scheme(tags) else "accuracy",
        )

    def score(
        self,
        model: SeqModel,
        vocab: Vocab,
        meta: dict,
        d: TagData,
        split: str,
        s: TagSettings,
        out: Path,
    ) -> Scores:
        examples = d.splits[split]
        pred = tag(model, vocab, [w for w, _ in examples], s.bs, resolve_device(s.device))
        gold = [list(t or ()) for _, t in examples]
        scheme = span_scheme(d.tags)
        return Scores(scores(gold, pred, scheme), report(gold, pred, scheme), len(examples))


def build_model(fwd_pre, bwd_pre, d: TagData, s: TagSettings) -> tuple[SeqModel, Vocab]:
    """(model, vocab): the pretrained encoders (or fresh ones of their shape) under a TagHead."""
    task_vocab = data.word_vocab(d.splits["train"], s.min_freq)
    if s.from_scratch:
        vocab = task_vocab  # no pretraining: only the training words can be learned
    else:
        vocab = fwd_pre.vocab
        if bwd_pre is not None:
            vocab = transfer.extend_vocab(vocab, bwd_pre.vocab)
        vocab = transfer.extend_vocab(vocab, task_vocab)
    fwd = transfer.build_encoder(vocab, fwd_pre, from_scratch=s.from_scratch)
    bwd = transfer.build_encoder(vocab, bwd_pre, from_scratch=s.from_scratch) if bwd_pre else None
    encoder = TaggerEncoder(fwd, bwd, vocab.bos_idx)
    head = TagHead(encoder, d.tags, crf=s.crf, out_drop=s.out_drop)
    return SeqModel(encoder, head), vocab


def from_files(s: TagSettings) -> dict[str, list]:
    """(words, tags) examples of --train, --valid and --test; a valid or test tag that train
    never had is an error naming its file and line."""
    sentences: dict[str, list[Sentence]] = {}
    for split in ("train", "valid", "test"):
        path = getattr(s, split)
        if path is not None:
            sentences[split] = read(path, s.fmt, s.word_col, s.tag_col, s.tag_field, need_tags=True)
    known = {t for x in sentences["train"] for t in x.tags or ()}
    for split in ("valid", "test"):
        for x in sentences.get(split, []):
            for k, t in zip(x.word_lines, x.tags or (), strict=True):
                if t not in known:
                    raise ValueError(
                        f"{getattr(s, split)}:{x.line_no + k}: tag {t!r} never occurs in "
                        "--train; a tagger can only predict tags it was trained on (add "
                        "examples to --train)"
                    )
    return {split: [(x.words, x.tags) for x in xs] for split, xs in sentences.items()}


def from_registry(name: str) -> dict[str, list]:
    ds = registry.dataset(name)
    if ds.get("task") != "tag":
        raise ValueError(f"dataset {name!r} is for {ds.get('task')!r}, not for tagging")
    return {k: ds[k] for k in ("train", "valid", "test") if k in ds}


TAGGING = Tagging()
