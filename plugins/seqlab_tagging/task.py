"""The tagging task for the fine-tuning skeleton (seqlab.tasks.finetune): settings, data, model,
score.

    LM run(s) -> encoders, LM vocab extended by the training words -> TaggerEncoder (fwd [+
    bwd], outputs joined per word) -> TagHead (softmax or CRF)

`--from-scratch` trains the same architecture from random weights (the baseline).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, cast

from seqlab import SeqModel, StatefulEncoder, Vocab, registry
from seqlab.settings import SettingError, setting
from seqlab.tasks import transfer
from seqlab.tasks.finetune import Built, FinetuneSettings, Scores, paths
from seqlab.train.trainer import MAX_EPOCHS, resolve_device
from seqlab_tagging import data, schemes
from seqlab_tagging.charlm import SPACE, CharLMReader
from seqlab_tagging.encoder import TaggerEncoder
from seqlab_tagging.features import Featurizer
from seqlab_tagging.head import TagHead
from seqlab_tagging.metrics import confusion_png, per_type, report, scores, span_scheme
from seqlab_tagging.predict import tag
from seqlab_tagging.readers import CONLLU_FIELDS, FORMATS, ReadError, Sentence, read
from seqlab_tagging.wordrep import WordFeaturesConfig

# The longest sentence (words) a tagger trains or scores on by default. GUM's dev and test
# splits' longest has 134 words, CoNLL-2003's 124; work per sentence is linear in its words,
# but one of 10,000 words is almost always a file whose blank lines were lost, better named
# than trained on.
MAX_LEN = 1000


@dataclass
class TagSettings(FinetuneSettings):
    # Defaults chosen on GUM's held-out tail (the last 10% of the dev split's sentences, never
    # the test split; docs/tagging.md): 20 epochs and dropout 0.33 before the BiLSTM.
    epochs: int = setting(20, "Epochs of one-cycle training.", min=1, max=MAX_EPOCHS)
    backward_encoder: tuple[Path, ...] = setting((), "Backward LM run directories.", cli=False)
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
    crf: bool | None = setting(
        None,
        "Linear-chain CRF with Viterbi decoding instead of a per-token softmax (learns which "
        "tag may follow which); for span tags it is constrained to valid BIO/BIOES sequences. "
        "[default: on for span tag sets (BIO, BIOES), off for others (POS tags)]",
    )
    scheme: str = setting(
        "input",
        "Span tags: the scheme the tagger learns, BIO or BIOES (E- ends an entity, S- is a "
        "one-word one); input: the training file's. Predictions are written back in the "
        "training file's scheme either way.",
        choices=("input", "BIO", "BIOES"),
    )
    out_drop: float = setting(
        0.1, "Dropout on the encoder outputs, before the tag layer.", min=0, max=1, max_open=True
    )
    features: bool = setting(
        True,
        "The tagger's own view of each word: lower-cased word, shape, suffix and a character "
        "CNN, what lets it tag words it never saw.",
    )
    context: int = setting(
        128,
        "Hidden size (per direction) of the BiLSTM that reads the word vectors in context; "
        "0: none (LM outputs straight to the head).",
        min=0,
    )
    word_drop: float = setting(
        0.05,
        "While training, a word reads as xxunk with this probability (so xxunk learns what "
        "an unseen word looks like).",
        min=0,
        max=1,
        max_open=True,
    )
    train_char_lms: bool = setting(
        False,
        "Fine-tune the character LMs with the tagger; off: they stay as pretrained (Flair).",
    )
    drop: float = setting(
        0.33, "Locked dropout on the word vectors, before the BiLSTM.", min=0, max=1, max_open=True
    )
    max_len: int = setting(
        MAX_LEN,
        "Longest sentence (words) to train or score on; a longer one is an error naming its "
        "file and line (the corpora we know stay under 300; a run-on 'sentence' is usually a "
        "missing blank line).",
        min=1,
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        self.backward_encoder = paths(self.backward_encoder)
        if self.word_col == self.tag_col:
            raise SettingError(
                "word_col", f"and --tag-col are both {self.word_col}: they must differ"
            )


@dataclass
class TagData:
    splits: dict[str, list[data.Example]]  # (words, tags) examples per split, as learnt
    written: str | None = None  # span tags: the training file's scheme (predictions' scheme)

    @property
    def tags(self) -> list[str]:
        """The training tags; for a span tag set every B-/I-(/E-/S-) of its types."""
        seen = data.tag_list(self.splits["train"])
        scheme = span_scheme(seen)
        return sorted(schemes.tag_set(schemes.types(seen), scheme)) if scheme else seen


def use_crf(s: TagSettings, tags: list[str]) -> bool:
    """--crf as given, else on for span tag sets: the constrained CRF outputs valid spans."""
    return s.crf if s.crf is not None else span_scheme(tags) is not None


def pretrained(s: TagSettings) -> list[transfer.Pretrained]:
    """Every LM of --encoder (forward) and --backward-encoder, word- or character-level,
    checked to read in the direction its option says."""
    pres = []
    for option, paths_, backward in (
        ("--encoder", s.encoder, False),
        ("--backward-encoder", s.backward_encoder, True),
    ):
        for path in paths_:
            pre = transfer.load_pretrained(path, backward)
            if pre.config.backward != backward:
                read_as = "backward" if pre.config.backward else "forward"
                other = "--backward-encoder" if pre.config.backward else "--encoder"
                raise ValueError(f"{option} {path}: this LM reads {read_as}; pass it as {other}")
            if pre.level not in ("word", "char"):
                raise ValueError(
                    f"{option} {path}: an LM of level {pre.level!r}; give word or char"
                )
            pres.append(pre)
    return pres


class Tagging:
    name: ClassVar[str] = "tag"
    settings: ClassVar[type[FinetuneSettings]] = TagSettings

    def read(self, s: TagSettings) -> TagData:
        if not (s.encoder or s.backward_encoder or s.features):
            raise ValueError("--no-features needs --encoder: the tagger would read nothing")
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
        check_lengths(splits, s)
        written = span_scheme(data.tag_list(splits["train"]))
        if s.scheme != "input":
            if written is None:
                raise ValueError(f"--scheme {s.scheme}: the training tags are not BIO/BIOES")
            splits = {
                k: [(w, schemes.convert(t or (), s.scheme)) for w, t in xs]
                for k, xs in splits.items()
            }
        pretrained(s)  # levels and directions, checked before anything is written
        return TagData(splits, written)

    def build(self, d: TagData, s: TagSettings) -> Built:
        model, vocab = build_model(d, s)
        tags = d.tags
        valid = d.splits["valid" if "valid" in d.splits else "test"]
        assert isinstance(model.encoder, TaggerEncoder)
        featurizer = model.encoder.featurizer
        for reader in model.encoder.char_lms:  # frozen LMs: each sentence read once a run
            cast(CharLMReader, reader).remember()

        def batches(examples, **kw):
            return data.batches(examples, vocab, tags, s.bs, featurizer=featurizer, **kw)

        return Built(
            model=model,
            vocab=vocab,
            train_dl=batches(d.splits["train"], shuffle=True, seed=s.seed),
            valid_dl=batches(valid),
            meta={
                "encoder_kind": TaggerEncoder.kind,
                "encoder": model.encoder.to_dict(),
                "head": {"kind": TagHead.kind, "config": model.head.config()},
                "tag_data": {
                    "word_col": s.word_col,
                    "tag_col": s.tag_col,
                    "tag_field": s.tag_field,
                    **({"scheme": d.written} if d.written else {}),
                },
            },
            pretrained=bool(s.encoder or s.backward_encoder) and not s.from_scratch,
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
        scheme = d.written
        if scheme and scheme != span_scheme(d.tags):  # scored in the file's scheme, as written
            gold = [schemes.convert(t, scheme) for t in gold]
            pred = [schemes.convert(t, scheme) for t in pred]
        metrics = scores(gold, pred, scheme)
        headline = ", ".join(f"{k} {v:.3f}" for k, v in metrics.items())
        confusion_png(gold, pred, out / "confusion.png", f"{split} tokens: {headline}")
        text = report(gold, pred, scheme)
        details = {"per_type": per_type(gold, pred)} if scheme else {}
        return Scores(metrics, text, len(examples), files=["confusion.png"], details=details)


def build_model(d: TagData, s: TagSettings) -> tuple[SeqModel, Vocab]:
    """(model, vocab): the tagger's own word features, the pretrained word LMs (fine-tuned,
    or fresh ones of their shape with --from-scratch) and character LMs under a TagHead."""
    pres = pretrained(s)
    word_pres = [p for p in pres if p.level == "word"]
    char_pres = [p for p in pres if p.level == "char"]
    train = d.splits["train"]
    vocab = data.word_vocab(train, s.min_freq)
    if word_pres and not s.from_scratch:  # every LM word keeps its row; training words join
        lm_vocab = word_pres[0].vocab
        for p in word_pres[1:]:
            lm_vocab = transfer.extend_vocab(lm_vocab, p.vocab)
        vocab = transfer.extend_vocab(lm_vocab, vocab)
    lms = [transfer.build_encoder(vocab, p, from_scratch=s.from_scratch) for p in word_pres]
    featurizer, features = None, None
    if s.features or char_pres:
        featurizer = Featurizer.build([w for w, _ in train], s.min_freq)
        for p in char_pres:  # a character only the LM knows still reaches the LM
            featurizer.chars = transfer.extend_vocab(featurizer.chars, p.vocab)
    if s.features:
        assert featurizer is not None
        features = WordFeaturesConfig(
            n_lower=len(featurizer.lower),
            n_shapes=len(featurizer.shapes),
            n_suffixes=len(featurizer.suffixes),
            n_chars=len(featurizer.chars),
            word_drop=s.word_drop,
        )
    readers = [char_reader(p, featurizer, s) for p in char_pres]
    encoder = TaggerEncoder(
        lms, vocab.bos_idx, vocab.pad_idx, featurizer, features, s.context, s.drop, readers
    )
    crf = use_crf(s, d.tags)
    constrained = crf and span_scheme(d.tags) is not None
    head = TagHead(encoder, d.tags, crf=crf, out_drop=s.out_drop, constrained=constrained)
    return SeqModel(encoder, head), vocab


def char_reader(pre: transfer.Pretrained, featurizer, s: TagSettings) -> CharLMReader:
    """A character LM as the tagger reads it: its weights (stateless now), ids mapped."""
    lm = StatefulEncoder(dataclasses.replace(pre.config, stateful=False))
    if not s.from_scratch:
        lm.load_state_dict(pre.tensors, strict=True)
    if SPACE not in pre.vocab.stoi:
        raise ValueError(f"{pre.stem}: this character LM never saw a space; it cannot read words")
    reader = CharLMReader(
        lm, pre.vocab.stoi[SPACE], pre.vocab.bos_idx, len(featurizer.chars), s.train_char_lms
    )
    reader.map_chars(featurizer.chars, pre.vocab)
    return reader


def from_files(s: TagSettings) -> dict[str, list]:
    """(words, tags) examples of --train, --valid and --test; a valid or test tag that train
    never had is an error naming its file and line, and so are tags that are no scheme's
    (checked_scheme). Span tags are read as conlleval reads them and written back valid
    (schemes.repair: `O I-PER` -> `O B-PER`, the same spans), which the constrained CRF needs."""
    sentences: dict[str, list[Sentence]] = {}
    found: dict[str, str | None] = {}
    for split in ("train", "valid", "test"):
        path = getattr(s, split)
        if path is not None:
            sentences[split] = read(path, s.fmt, s.word_col, s.tag_col, s.tag_field, need_tags=True)
            for x in sentences[split]:
                if len(x.words) > s.max_len:
                    raise ValueError(too_long(f"{path}:{x.line_no}", len(x.words), s.max_len))
            found[split] = checked_scheme(sentences[split], str(path))
    scheme = found["train"]
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
    for split, other in found.items():
        if scheme and other and other != scheme:
            raise ValueError(
                f"{getattr(s, split)}: tags in {other}, --train in {scheme}; write both in one "
                "scheme (seqlab_tagging.schemes.convert)"
            )

    def tags_of(x: Sentence):
        return schemes.repair(x.tags or (), scheme) if scheme else x.tags

    return {split: [(x.words, tags_of(x)) for x in xs] for split, xs in sentences.items()}


def checked_scheme(sentences: list[Sentence], name: str) -> str | None:
    """The span scheme of a file's tags (None: not span tags); a tag no scheme allows is a
    ReadError naming its line (schemes.check)."""
    try:
        return schemes.check([x.tags or () for x in sentences], [x.words for x in sentences])
    except schemes.SchemeError as e:
        x = sentences[e.sentence]
        raise ReadError(name, x.line_no + x.word_lines[e.word], str(e)) from None


def too_long(where: str, n: int, most: int) -> str:
    return (
        f"{where}: a sentence of {n:,} words; the most is {most:,} (--max-len N raises it; "
        f"a blank line between sentences may be missing)"
    )


def check_lengths(splits: dict[str, list], s: TagSettings) -> None:
    """Every sentence of a registered dataset within --max-len (files are checked as read,
    with their line numbers)."""
    for split, examples in splits.items():
        for i, (words, _) in enumerate(examples, start=1):
            if len(words) > s.max_len:
                raise ValueError(too_long(f"{split} sentence {i}", len(words), s.max_len))


def from_registry(name: str) -> dict[str, list]:
    ds = registry.dataset(name)
    if ds.get("task") != "tag":
        raise ValueError(f"dataset {name!r} is for {ds.get('task')!r}, not for tagging")
    return {k: ds[k] for k in ("train", "valid", "test") if k in ds}


TAGGING = Tagging()
