"""A flair character language model (for FlairEmbeddings), trained by flair's own
LanguageModelTrainer on plain text, within a CPU-time budget; for bench_peers_tag.py.

Runs in the peers' virtual environment (never seqlab's). The text files are turned into
flair's corpus layout (corpus/train/ split files, corpus/valid.txt, corpus/test.txt), one
paragraph per line (lines between blank lines joined with a space: hard-wrapped book text and
WikiText's one-paragraph lines both become one line per paragraph; the trainer shuffles lines
within a split). The last --valid-chars characters (whole paragraphs) are valid, the
--valid-chars / 2 before them test, the rest is cut into --splits train files. The character
dictionary is every character of the text (flair's `Dictionary.load("chars")` is a download).

Training is flair's LanguageModelTrainer (SGD, lr 20, anneal 0.25 after 10 splits without a
better valid loss, clip 0.25), num_workers=0 so the CPU time is this process's own. It stops at
--max-epochs or when this process has used --budget-cpu-s CPU seconds, whichever is first (the
split in progress is dropped: flair saves best-lm.pt after each split whose valid loss is the
best so far).

Printed last: RESULT {"lm_cpu_s", "best_valid_loss", "chars_per_epoch", "chars_trained", ...}.

For bench_char_lm.py: --valid-text FILE makes that text flair's valid (and test) split, the
given text files all train; --eval-text FILE adds "eval_bpc", the best model's bits per
character over that raw text read as one stream (--bs rows, state carried, as flair's own
evaluation reads its valid split); --probe-cpu-s S trains nothing to keep: it times S CPU
seconds of the trainer's own step (forward, loss, backward, clip, SGD step, detach; the body
of LanguageModelTrainer.train's batch loop) on the first train split and prints chars/s.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import peer_io

peer_io.one_thread()


def paragraphs(path: Path) -> list[str]:
    out, cur = [], []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.strip():
            cur.append(line.strip())
        elif cur:
            out.append(" ".join(cur))
            cur = []
    if cur:
        out.append(" ".join(cur))
    return out


def take_tail(paras: list[str], chars: int) -> tuple[list[str], list[str]]:
    """(rest, tail) where tail is the last whole paragraphs with at least `chars` characters."""
    n, i = 0, len(paras)
    while i > 0 and n < chars:
        i -= 1
        n += len(paras[i]) + 1
    return paras[:i], paras[i:]


def make_corpus(
    files: list[Path], root: Path, splits: int, valid_chars: int, valid_text: Path | None
) -> int:
    """Write flair's corpus layout under root; the number of training characters."""
    paras = [p for f in files for p in paragraphs(f)]
    if valid_text:
        train, valid = paras, paragraphs(valid_text)
        test = valid
    else:
        rest, valid = take_tail(paras, valid_chars)
        train, test = take_tail(rest, valid_chars // 2)
    (root / "train").mkdir(parents=True, exist_ok=True)
    (root / "valid.txt").write_text("\n".join(valid) + "\n", encoding="utf-8")
    (root / "test.txt").write_text("\n".join(test) + "\n", encoding="utf-8")
    total = sum(len(p) + 1 for p in train)
    per, k, cur, n = total / splits, 0, [], 0
    for p in train:
        cur.append(p)
        n += len(p) + 1
        if n >= per * (k + 1) and k < splits - 1:
            (root / "train" / f"train_split_{k + 1:03d}").write_text(
                "\n".join(cur) + "\n", encoding="utf-8"
            )
            k, cur = k + 1, []
    if cur:
        (root / "train" / f"train_split_{k + 1:03d}").write_text(
            "\n".join(cur) + "\n", encoding="utf-8"
        )
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("text", nargs="+", type=Path, help="plain-text files")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--backward", action="store_true")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--emb-size", type=int, default=100, help="character embedding size")
    ap.add_argument("--seq-len", type=int, default=250)
    ap.add_argument("--bs", type=int, default=32)
    ap.add_argument("--max-epochs", type=int, default=1000)
    ap.add_argument("--budget-cpu-s", type=float, default=1200.0)
    ap.add_argument("--splits", type=int, default=50)
    ap.add_argument("--valid-chars", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--valid-text", type=Path, help="this text is valid (and test); all else train")
    ap.add_argument("--eval-text", type=Path, help="also report bits per character on this text")
    ap.add_argument("--probe-cpu-s", type=float, help="only time the training step (chars/s)")
    args = ap.parse_args()

    import flair
    import torch
    from flair.data import Dictionary
    from flair.models import LanguageModel
    from flair.trainers.language_model_trainer import LanguageModelTrainer, TextCorpus

    torch.set_num_threads(1)
    flair.device = torch.device("cpu")
    flair.set_seed(args.seed)
    start = peer_io.cpu()

    root = args.out / "corpus"
    chars_per_epoch = make_corpus(args.text, root, args.splits, args.valid_chars, args.valid_text)
    dictionary = Dictionary(add_unk=True)
    dictionary.add_item("\n")
    for f in sorted(root.rglob("*")):
        if f.is_file():
            for c in sorted(set(f.read_text(encoding="utf-8"))):
                dictionary.add_item(c)
    corpus = TextCorpus(root, dictionary, forward=not args.backward, character_level=True)
    model = LanguageModel(
        dictionary,
        is_forward_lm=not args.backward,
        hidden_size=args.hidden,
        nlayers=args.layers,
        embedding_size=args.emb_size,
    )
    if args.probe_cpu_s:
        peer_io.result(**probe(model, corpus, args), hidden=args.hidden, bs=args.bs)
        return
    state = {"batches": 0, "stopped": False}
    deadline = start + args.budget_cpu_s

    class BudgetTrainer(LanguageModelTrainer):
        """Stops (as Ctrl-C does: flair catches KeyboardInterrupt) when the CPU budget is
        spent; checked at each training batch, never while saving."""

        def _get_batch(self, source, i, sequence_length):
            if self.model.training:
                if peer_io.cpu() > deadline:
                    state["stopped"] = True
                    raise KeyboardInterrupt
                state["batches"] += 1
            return LanguageModelTrainer._get_batch(source, i, sequence_length)

    trainer = BudgetTrainer(model, corpus)
    trainer.train(
        args.out,
        sequence_length=args.seq_len,
        mini_batch_size=args.bs,
        max_epochs=args.max_epochs,
        num_workers=0,
    )
    best = args.out / "best-lm.pt"
    if not best.exists():  # the budget ended inside the first split
        model.save(best)
    losses = [
        float(line.split("valid loss")[1].split("|")[0])
        for line in (args.out / "loss.txt").read_text().splitlines()
        if line.startswith("| end of split")
    ] if (args.out / "loss.txt").exists() else []  # fmt: skip
    lm_cpu = peer_io.cpu() - start
    info = dict(
        lm_cpu_s=lm_cpu,
        best_valid_loss=min(losses) if losses else None,
        best_valid_bpc=min(losses) / math.log(2) if losses else None,
        splits_done=len(losses),
        chars_per_epoch=chars_per_epoch,
        chars_trained=state["batches"] * args.seq_len * args.bs,
        stopped_by_budget=state["stopped"],
        dictionary_size=len(dictionary),
        hidden=args.hidden,
        layers=args.layers,
        seq_len=args.seq_len,
        bs=args.bs,
        backward=args.backward,
        model=str(best),
    )
    if args.eval_text:
        text = args.eval_text.read_text(encoding="utf-8")
        info["eval_bpc"] = bits_per_char(LanguageModel.load_language_model(best), text, args)
    (args.out / "result.json").write_text(json.dumps(info, indent=1))
    peer_io.result(**info)


def probe(model, corpus, args) -> dict:
    """Characters per CPU second of LanguageModelTrainer's batch-loop body, on split 1."""
    import torch
    from flair.trainers.language_model_trainer import LanguageModelTrainer

    trainer = LanguageModelTrainer(model, corpus)
    optimizer = torch.optim.SGD(model.parameters(), lr=20.0)
    data = trainer._batchify(corpus.train[0].flatten(), args.bs)
    ntokens = len(corpus.dictionary)
    model.train()
    hidden = model.init_hidden(args.bs)
    steps, start, i = -3, 0.0, 0  # three warm-up steps, untimed
    while steps < 0 or peer_io.cpu() - start < args.probe_cpu_s:
        if i + args.seq_len + 1 >= data.size(0):
            i, hidden = 0, model.init_hidden(args.bs)
        x, y = trainer._get_batch(data, i, args.seq_len)
        model.zero_grad()
        optimizer.zero_grad()
        output, _, hidden = model.forward(x, hidden)
        loss = trainer.loss_function(output.view(-1, ntokens), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        optimizer.step()
        hidden = trainer._repackage_hidden(hidden)
        i += args.seq_len
        steps += 1
        if steps == 0:
            start = peer_io.cpu()
    seconds = peer_io.cpu() - start
    return {
        "steps": steps,
        "cpu_s": seconds,
        "chars_per_s": steps * args.bs * args.seq_len / seconds,
    }


def bits_per_char(model, text: str, args) -> float:
    """Mean bits per character of `model` over `text` read as one stream, --bs rows."""
    import torch

    if not model.is_forward_lm:
        text = text[::-1]
    ids = torch.tensor([model.dictionary.get_idx_for_item(c) for c in text], dtype=torch.long)
    n = ids.numel() // args.bs
    data = ids[: n * args.bs].view(args.bs, -1).t().contiguous()
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        hidden = model.init_hidden(args.bs)
        for i in range(0, data.size(0) - 1, args.seq_len):
            x, y = data[i : i + args.seq_len], data[i + 1 : i + 1 + args.seq_len]
            x = x[: y.size(0)]
            out, _, hidden = model.forward(x, hidden)
            loss = torch.nn.functional.cross_entropy(out.view(-1, out.size(-1)), y.reshape(-1))
            total, count = total + loss.item() * y.numel(), count + y.numel()
    return total / count / math.log(2)


if __name__ == "__main__":
    main()
