"""spaCy 3 from scratch: a text classifier (`textcat`), for bench_gum_classify.py.

Runs in the peers' virtual environment (never seqlab's). The steps, as a spaCy user types them:

  python -m spacy init config config.cfg --lang en --pipeline textcat --optimize efficiency
  python -m spacy train config.cfg --output model --paths.train train.spacy
      --paths.dev dev.spacy --system.seed SEED --training.seed SEED

--arch bow keeps that config (spacy.TextCatBOW.v3: a linear model on hashed unigrams);
--arch ensemble swaps in spacy.TextCatEnsemble.v2 (that BOW model beside a CNN tok2vec with
attention, the documented default of the ensemble) without pretrained vectors. The .spacy
files are made here from the bench's CSVs (one-hot `cats`, exclusive classes); the dev file
picks `model-best`. --max-steps caps spaCy's 20,000 steps (its patience of 1,600 steps
usually stops it sooner).

Printed last: RESULT {"train_cpu_s", "predict_cpu_s", "predict_texts", ...}; the predicted
test labels go to --pred, one per line.
"""

from __future__ import annotations

import peer_io

peer_io.one_thread()

ENSEMBLE = {
    "@architectures": "spacy.TextCatEnsemble.v2",
    "nO": None,
    "linear_model": {
        "@architectures": "spacy.TextCatBOW.v3",
        "exclusive_classes": True,
        "length": 262144,
        "ngram_size": 1,
        "no_output_layer": False,
    },
    "tok2vec": {
        "@architectures": "spacy.Tok2Vec.v2",
        "embed": {
            "@architectures": "spacy.MultiHashEmbed.v2",
            "width": 64,
            "rows": [2000, 2000, 500, 1000, 500],
            "attrs": ["NORM", "LOWER", "PREFIX", "SUFFIX", "SHAPE"],
            "include_static_vectors": False,
        },
        "encode": {
            "@architectures": "spacy.MaxoutWindowEncoder.v2",
            "width": 64,
            "window_size": 1,
            "maxout_pieces": 3,
            "depth": 2,
        },
    },
}


def main() -> None:
    ap = peer_io.arguments(__doc__, "CSV with text,label columns")
    ap.add_argument("--arch", choices=("bow", "ensemble"), default="bow")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-steps", type=int, default=20000)
    args = ap.parse_args()
    work = args.work
    work.mkdir(parents=True, exist_ok=True)

    import spacy as sp
    from spacy.tokens import DocBin
    from spacy.util import load_config

    train, dev, test = (peer_io.read_csv(getattr(args, s)) for s in ("train", "dev", "test"))
    labels = sorted({label for _, label in train})
    nlp = sp.blank("en")
    for name, rows in (("train", train), ("dev", dev)):
        docs = DocBin()
        for doc, (_, label) in zip(nlp.pipe(t for t, _ in rows), rows, strict=True):
            doc.cats = {c: float(c == label) for c in labels}
            docs.add(doc)
        docs.to_disk(work / f"{name}.spacy")

    cfg = work / "config.cfg"
    peer_io.spacy(
        "init", "config", str(cfg), "--lang", "en", "--pipeline", "textcat",
        "--optimize", "efficiency", "--force",
    )  # fmt: skip
    if args.arch == "ensemble":
        config = load_config(cfg)
        config["components"]["textcat"]["model"] = ENSEMBLE
        config.to_disk(cfg)
    overrides = [
        "--paths.train", str(work / "train.spacy"), "--paths.dev", str(work / "dev.spacy"),
        "--system.seed", str(args.seed), "--training.seed", str(args.seed),
        "--training.max_steps", str(args.max_steps),
    ]  # fmt: skip
    before = peer_io.children_cpu()
    peer_io.spacy("train", str(cfg), "--output", str(work / "model"), *overrides)
    train_cpu = peer_io.children_cpu() - before

    model = sp.load(work / "model" / "model-best")
    start = peer_io.cpu()
    docs = list(model.pipe((t for t, _ in test), batch_size=256))
    predict_cpu = peer_io.cpu() - start
    with open(args.pred, "w", encoding="utf-8") as f:
        f.writelines(max(d.cats, key=d.cats.get) + "\n" for d in docs)
    peer_io.result(
        train_cpu_s=train_cpu,
        predict_cpu_s=predict_cpu,
        predict_texts=len(test),
        spacy=sp.__version__,
        arch=args.arch,
    )


if __name__ == "__main__":
    main()
