"""spaCy 3 from scratch: an `ner` pipeline with spaCy's own config, for bench_peers_ner.py.

Runs in the peers' virtual environment (never seqlab's). The steps, as a spaCy user types them:

  python -m spacy init config config.cfg --lang en --pipeline ner --optimize efficiency
  python -m spacy train config.cfg --output model --paths.train train.spacy
      --paths.dev dev.spacy --system.seed SEED --training.seed SEED

The .spacy files are built here from the bench's CoNLL files (word TAB BIO tag): a Doc of the
bench's words with its entities (`Doc(words=..., ents=tags)`, a stray `O I-X` read as `B-X`,
as conlleval reads it). The dev file picks `model-best` (spaCy's ents F on it). The test words
(the bench's tokens, not spaCy's tokenizer) then go through `model-best`.

`--optimize accuracy` asks for en_core_web_lg's static vectors, which cannot be downloaded
here, so its config is trained without them (`paths.vectors` null, `include_static_vectors`
false): the preset's larger tok2vec, from scratch.

Printed last: RESULT {"train_cpu_s", "predict_cpu_s", "predict_words"}; the predicted test
tags go to --pred (one per line, a blank line after each sentence).
"""

from __future__ import annotations

import peer_io

peer_io.one_thread()


def valid_bio(tags: list[str]) -> list[str]:
    out = ["O"] * len(tags)
    for start, end, kind in peer_io.bio_spans(tags):
        out[start:end] = ["B-" + kind] + ["I-" + kind] * (end - start - 1)
    return out


def main() -> None:
    ap = peer_io.arguments(__doc__)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--optimize", default="efficiency", choices=("efficiency", "accuracy"))
    ap.add_argument("--quick", action="store_true", help="a few steps only (plumbing check)")
    args = ap.parse_args()
    import spacy
    from spacy.tokens import Doc, DocBin

    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    nlp = spacy.blank("en")
    for split in ("train", "dev"):
        db = DocBin()
        for words, tags in peer_io.read_conll(getattr(args, split)):
            db.add(Doc(nlp.vocab, words=words, ents=valid_bio(tags)))
        db.to_disk(work / f"{split}.spacy")
    cfg = work / "config.cfg"
    peer_io.spacy(
        "init", "config", str(cfg), "--lang", "en", "--pipeline", "ner",
        "--optimize", args.optimize, "--force",
    )  # fmt: skip
    no_vectors = ["--paths.vectors", "null",
                  "--components.tok2vec.model.embed.include_static_vectors", "false"]  # fmt: skip
    extra = no_vectors if args.optimize == "accuracy" else []
    train, dev = work / "train.spacy", work / "dev.spacy"
    train_cpu = peer_io.spacy_train(cfg, train, dev, work / "model", args.seed, args.quick, extra)

    best = spacy.load(work / "model" / "model-best")
    test = peer_io.read_conll(args.test)
    docs = [Doc(best.vocab, words=words) for words, _ in test]
    start = peer_io.cpu()
    tagged = list(best.pipe(docs))
    predict_cpu = peer_io.cpu() - start
    pred = [
        [t.ent_iob_ + "-" + t.ent_type_ if t.ent_iob_ in ("B", "I") else "O" for t in doc]
        for doc in tagged
    ]
    peer_io.write_tags(args.pred, pred)
    peer_io.result(
        train_cpu_s=round(train_cpu, 1),
        predict_cpu_s=round(predict_cpu, 3),
        predict_words=sum(len(w) for w, _ in test),
    )


if __name__ == "__main__":
    main()
