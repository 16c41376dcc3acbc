"""fastText supervised (the `fasttext` binding from PyPI), for bench_gum_classify.py.

Runs in the peers' virtual environment (never seqlab's), on one thread. The steps, as a
fastText user types them in Python:

  model = fasttext.train_supervised("train.txt", wordNgrams=2, minn=2, maxn=5, epoch=25)
      (--mode ngrams: word 1-2-grams and char 2-5-grams, like the TF-IDF rows and seqlab's
      channel; 25 epochs, lr 0.1 otherwise fastText's defaults)
  model = fasttext.train_supervised("train.txt", autotuneValidationFile="dev.txt",
      autotuneDuration=SECONDS)
      (--mode autotune: fastText's own search of its settings, scored on the dev file)
  model.predict(texts)

The bench's CSVs become fastText's format here (`__label__GENRE text`, one line each,
newlines in a text replaced by spaces). Printed last: RESULT {"train_cpu_s",
"predict_cpu_s", "predict_texts", "args"}; the predicted test labels go to --pred.
"""

from __future__ import annotations

import peer_io

peer_io.one_thread()

PREFIX = "__label__"


def write_fasttext(path, rows) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for text, label in rows:
            f.write(f"{PREFIX}{label} {' '.join(text.split())}\n")


def main() -> None:
    ap = peer_io.arguments(__doc__, "CSV with text,label columns")
    ap.add_argument("--mode", choices=("ngrams", "autotune"), default="ngrams")
    ap.add_argument("--autotune-seconds", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    import fasttext

    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    train, dev, test = (peer_io.read_csv(getattr(args, s)) for s in ("train", "dev", "test"))
    write_fasttext(work / "train.txt", train)
    write_fasttext(work / "dev.txt", dev)
    if args.mode == "ngrams":
        options = {"wordNgrams": 2, "minn": 2, "maxn": 5, "epoch": 25}
    else:
        options = {
            "autotuneValidationFile": str(work / "dev.txt"),
            "autotuneDuration": args.autotune_seconds,
        }
    start = peer_io.cpu()
    model = fasttext.train_supervised(
        str(work / "train.txt"), thread=1, seed=args.seed, verbose=0, **options
    )
    train_cpu = peer_io.cpu() - start
    texts = [" ".join(t.split()) for t, _ in test]
    start = peer_io.cpu()
    labels, _ = model.predict(texts)
    predict_cpu = peer_io.cpu() - start
    with open(args.pred, "w", encoding="utf-8") as f:
        f.writelines(ls[0][len(PREFIX) :] + "\n" for ls in labels)
    chosen = {k: getattr(model, k) for k in ("dim", "epoch", "lr", "wordNgrams", "minn", "maxn")}
    peer_io.result(
        train_cpu_s=train_cpu,
        predict_cpu_s=predict_cpu,
        predict_texts=len(texts),
        args=chosen,
    )


if __name__ == "__main__":
    main()
