"""spaCy 3 from scratch: a UPOS tagger with spaCy's own config, for bench_peers_tag.py.

Runs in the peers' virtual environment (never seqlab's). The steps, as a spaCy user types them:

  python -m spacy init config config.cfg --lang en --pipeline tagger --optimize efficiency
  python -m spacy convert train.conllu corpus/ --converter conllu     (and dev.conllu)
  python -m spacy train config.cfg --output model --paths.train corpus/train.spacy
      --paths.dev corpus/dev.spacy --system.seed SEED --training.seed SEED

spaCy's `tagger` learns `Token.tag_`, which `spacy convert` fills from XPOS; to learn UPOS the
files given to `convert` carry the UPOS tag in the XPOS field too (everything else as read).
The dev file picks `model-best` (spaCy's tag accuracy on it). Then the test words (the bench's
tokens, not spaCy's tokenizer) are tagged by `model-best`.

Printed last: RESULT {"train_cpu_s", "predict_cpu_s", "predict_words", ...}; the predicted
test tags go to --pred (one per line, a blank line after each sentence).
"""

from __future__ import annotations

from pathlib import Path

import peer_io

peer_io.one_thread()


def upos_as_xpos(src: str, dst: Path) -> Path:
    with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as out:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) == 10 and not line.startswith("#"):
                cols[4] = cols[3]
                line = "\t".join(cols) + "\n"
            out.write(line)
    return dst


def main() -> None:
    ap = peer_io.arguments(__doc__)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="a few steps only (plumbing check)")
    args = ap.parse_args()
    work = args.work
    (work / "corpus").mkdir(parents=True, exist_ok=True)

    cfg = work / "config.cfg"
    peer_io.spacy(
        "init", "config", str(cfg), "--lang", "en", "--pipeline", "tagger",
        "--optimize", "efficiency", "--force",
    )  # fmt: skip
    for split in ("train", "dev"):
        src = upos_as_xpos(getattr(args, split), work / f"{split}.conllu")
        peer_io.spacy("convert", str(src), str(work / "corpus"), "--converter", "conllu")
    corpus = work / "corpus"
    train_cpu = peer_io.spacy_train(
        cfg, corpus / "train.spacy", corpus / "dev.spacy", work / "model", args.seed, args.quick
    )

    import spacy as sp
    from spacy.tokens import Doc

    nlp = sp.load(work / "model" / "model-best")
    test = peer_io.read_conllu(args.test)
    docs = [Doc(nlp.vocab, words=words) for words, _ in test]
    start = peer_io.cpu()
    tagged = list(nlp.pipe(docs, batch_size=256))
    predict_cpu = peer_io.cpu() - start
    peer_io.write_tags(args.pred, [[t.tag_ for t in doc] for doc in tagged])
    peer_io.result(
        train_cpu_s=train_cpu,
        predict_cpu_s=predict_cpu,
        predict_words=sum(len(w) for w, _ in test),
        spacy=sp.__version__,
        pipeline=nlp.pipe_names,
        config="init config --lang en --pipeline tagger --optimize efficiency",
    )


if __name__ == "__main__":
    main()
