"""flair SequenceTagger (BiLSTM-CRF) trained from scratch, for bench_peers_tag.py (--task
upos: GUM's CoNLL-U) and bench_peers_ner.py (--task ner: CoNLL word TAB BIO tag files; the
entities go to flair as span labels, which its tagger encodes in BIOES, its default, and
decodes back into spans; the predicted spans are written as BIO tags).

Runs in the peers' virtual environment (never seqlab's). Two kinds of word representation:

  --embeddings char    OneHotEmbeddings (words, trained from scratch; flair's defaults: words
                       seen fewer than 3 times share <unk>, 300 dims) + CharacterEmbeddings
                       (Lample et al. 2016: a character BiLSTM per word, flair's defaults 25/25)
                       with a character dictionary of the training words (flair's default
                       one is a download, impossible here);
  --embeddings flair   FlairEmbeddings of the forward and backward character LMs given by
                       --lm-fwd / --lm-bwd (trained by flair_lm.py with flair's own
                       LanguageModelTrainer), + the same OneHotEmbeddings.

The tagger is flair's SequenceTagger with its defaults (1 BiLSTM layer of 256, CRF, locked
dropout 0.5, word dropout 0.05), trained by flair's ModelTrainer with its defaults (SGD, lr 0.1,
halve the lr after 3 epochs without a better dev score) but mini-batches of 8 (--bs): with
flair's 32 the 1.4k training sentences give 45 steps an epoch, and a from-scratch tagger
learns slowly (300 GUM sentences, 5 epochs, same CPU time: held-out accuracy 0.48 at 32,
0.67 at 8; AdamW lr 0.002 at 32: 0.74, --optimizer adamw). --epochs epochs; dev (the bench's
held-out part) picks best-model.pt. Then the test words are tagged.

Printed last: RESULT {"train_cpu_s", "predict_cpu_s", "predict_words", ...}; the predicted
test tags go to --pred (one per line, a blank line after each sentence).
"""

from __future__ import annotations

import peer_io

peer_io.one_thread()


def sentences(data, label_type: str):
    from flair.data import Sentence

    out = []
    for words, tags in data:
        s = Sentence(words)
        if tags is not None and label_type == "ner":
            for start, end, kind in peer_io.bio_spans(tags):
                s[start:end].add_label(label_type, kind)
        elif tags is not None:
            for token, tag in zip(s.tokens, tags, strict=True):
                token.add_label(label_type, tag)
        out.append(s)
    return out


def predicted(sentence, label_type: str) -> list[str]:
    """The predicted tag of each word (--task ner: the predicted spans as BIO tags)."""
    if label_type != "ner":
        return [t.get_label("predicted").value for t in sentence]
    tags = ["O"] * len(sentence)
    for span in sentence.get_spans("predicted"):
        first = span.tokens[0].idx - 1
        kind = span.get_label("predicted").value
        tags[first : first + len(span)] = ["B-" + kind] + ["I-" + kind] * (len(span) - 1)
    return tags


def main() -> None:
    ap = peer_io.arguments(__doc__)
    ap.add_argument("--task", choices=("upos", "ner"), default="upos")
    ap.add_argument("--embeddings", choices=("char", "flair"), default="char")
    ap.add_argument("--lm-fwd", help="forward flair LM (best-lm.pt) for --embeddings flair")
    ap.add_argument("--lm-bwd", help="backward flair LM (best-lm.pt) for --embeddings flair")
    ap.add_argument("--epochs", type=int, default=20, help="ModelTrainer max_epochs")
    ap.add_argument("--bs", type=int, default=8, help="mini-batch size")
    ap.add_argument("--lr", type=float, default=0.1, help="learning rate")
    ap.add_argument("--optimizer", choices=("sgd", "adamw"), default="sgd")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="1 epoch (plumbing check)")
    args = ap.parse_args()

    import flair
    import torch
    from flair.data import Corpus, Dictionary
    from flair.datasets import SentenceDataset
    from flair.embeddings import (
        CharacterEmbeddings,
        FlairEmbeddings,
        OneHotEmbeddings,
        StackedEmbeddings,
    )
    from flair.models import SequenceTagger
    from flair.trainers import ModelTrainer

    torch.set_num_threads(1)
    flair.device = torch.device("cpu")
    flair.set_seed(args.seed)

    label = args.task
    read = peer_io.read_conll if label == "ner" else peer_io.read_conllu
    train_data = read(args.train)
    corpus = Corpus(
        train=SentenceDataset(sentences(train_data, label)),
        dev=SentenceDataset(sentences(read(args.dev), label)),
        test=None,
        sample_missing_splits=False,
    )
    tag_dictionary = corpus.make_label_dictionary(label, add_unk=False)
    words = OneHotEmbeddings.from_corpus(corpus)
    if args.embeddings == "char":
        chars = Dictionary(add_unk=True)
        for ws, _ in train_data:
            for w in ws:
                for c in w:
                    chars.add_item(c)
        stack = [words, CharacterEmbeddings(chars)]
    else:
        if not (args.lm_fwd and args.lm_bwd):
            ap.error("--embeddings flair needs --lm-fwd and --lm-bwd")
        stack = [FlairEmbeddings(args.lm_fwd), FlairEmbeddings(args.lm_bwd), words]
    tagger = SequenceTagger(
        hidden_size=256,
        embeddings=StackedEmbeddings(stack),
        tag_dictionary=tag_dictionary,
        tag_type=label,
        use_crf=True,
    )
    base = args.work / "model"
    start = peer_io.cpu()
    ModelTrainer(tagger, corpus).train(
        base,
        learning_rate=args.lr,
        mini_batch_size=args.bs,
        optimizer=torch.optim.AdamW if args.optimizer == "adamw" else torch.optim.SGD,
        max_epochs=1 if args.quick else args.epochs,
        create_file_logs=True,
        # "none": every embedding is computed afresh for every batch. flair's default "cpu"
        # keeps the dev sentences' trainable (one-hot, character) embeddings from the first
        # evaluation (under no_grad they do not look dynamic), so later epochs were scored
        # on stale features (GUM held-out: flair's dev score 0.73, the same model 0.88) and
        # the best epoch was picked on them. The LMs' embeddings are cheap to recompute.
        embeddings_storage_mode="none",
    )
    train_cpu = peer_io.cpu() - start

    # The best epoch's weights into the trained object, as ModelTrainer itself does
    # (_load_model). Not the object SequenceTagger.load returns: in flair 0.15.1 a reloaded
    # OneHotEmbeddings is named "one-hot-text" instead of "0-one-hot-text" inside the stack, and
    # tokens concatenate their embeddings in name order, so a reloaded char + one-hot tagger
    # reads its features in the wrong order (GUM held-out accuracy 0.73 -> 0.14).
    best = base / "best-model.pt"
    if best.exists():
        tagger.load_state_dict(SequenceTagger.load(best).state_dict())
    tagger.eval()
    test_data = read(args.test)
    test = sentences([(ws, None) for ws, _ in test_data], label)
    start = peer_io.cpu()
    tagger.predict(test, mini_batch_size=32, label_name="predicted")
    predict_cpu = peer_io.cpu() - start
    peer_io.write_tags(args.pred, [predicted(s, label) for s in test])
    peer_io.result(
        train_cpu_s=train_cpu,
        predict_cpu_s=predict_cpu,
        predict_words=sum(len(ws) for ws, _ in test_data),
        flair=flair.__version__,
        torch=torch.__version__,
        embeddings=str([str(e) for e in stack]),
        model="best-model.pt" if best.exists() else "last epoch",
        epochs=1 if args.quick else args.epochs,
        bs=args.bs,
        lr=args.lr,
        optimizer=args.optimizer,
    )


if __name__ == "__main__":
    main()
