"""What the shipped English char LMs cost a tagger, and what reading frozen LMs once saves:
on GUM UPOS (common/gum.py's splits), side by side in this process, one thread,

  default        `seqlab finetune tag --train T --valid H --test X` (no LM)
  english        the same with `--encoder english --backward-encoder english` (each
                 sentence's LM vectors read once a run: the default)
  english-every  the same, the LM vectors read again every epoch (CharLMReader.remember off:
                 how the tagger trained before the cache; bit-identical results)

Columns: train CPU s (the whole `finetune tag` command: training, validation, test scoring),
its ratio to the default's, predict words/s (`seqlab predict RUN test.conllu` minus the same
on its first sentence: loading and start-up cost not counted), test accuracy (and on words
unseen in train), held-out accuracy (the checkpoint's pick).

    OMP_NUM_THREADS=1 python benchmarks/bench_frozen_lms.py [--rows default,english,...]
        [--quick] [--out benchmarks/results/frozen_lms.md]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch
from click.testing import CliRunner
from common.gum import Gold, make_splits
from common.proc import git_head
from common.tables import markdown, save

from seqlab.cli.main import cli
from seqlab_tagging.charlm import CharLMReader

HERE = Path(__file__).resolve().parent
ENGLISH = ["--encoder", "english", "--backward-encoder", "english"]
ROWS = {  # key: (name, extra finetune args, remember)
    "default": ("default tagger, no LM", [], True),
    "english": ("+ english pair, LM vectors read once (default)", ENGLISH, True),
    "english-every": ("+ english pair, LM vectors read every epoch", ENGLISH, False),
}


def seqlab(*args) -> tuple[float, str]:
    """`seqlab ARGS` in this process: its CPU seconds and output."""
    start = time.process_time()
    result = CliRunner().invoke(cli, [str(a) for a in args])
    if result.exit_code != 0:
        raise SystemExit(f"seqlab {' '.join(map(str, args))} failed:\n{result.output[-2000:]}")
    return time.process_time() - start, result.output


def tagged(output: str) -> list[list[str]]:
    return [json.loads(line)["tags"] for line in output.splitlines() if line.startswith("{")]


def row(key: str, files: dict, gold: Gold, work: Path, extra: list[str]) -> dict:
    name, args, remember = ROWS[key]
    out = work / key
    tag = ["finetune", "tag", *args, "--train", files["train"], "--valid", files["heldout"]]
    tag += ["--test", files["test"], "--seed", "0", "--out", out, "--quiet", *extra]
    keep = CharLMReader.remember
    if not remember:
        CharLMReader.remember = lambda self, on=True: None  # type: ignore[method-assign]
    try:
        train_cpu, _ = seqlab(*tag)
    finally:
        CharLMReader.remember = keep  # type: ignore[method-assign]
    predict_cpu, output = seqlab("predict", out, files["test"], "--json")
    one_cpu, _ = seqlab("predict", out, files["test1"], "--json")
    acc, unseen = gold.score(tagged(output))
    held = json.loads((out / "best.json").read_text())["metrics"]["accuracy"]
    wps = (gold.n_test - gold.n_test1) / max(predict_cpu - one_cpu, 1e-9)
    return {"row": key, "name": name, "train_cpu_s": train_cpu, "predict_wps": wps,
            "test": acc, "unseen": unseen, "heldout": held}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", default=",".join(ROWS))
    ap.add_argument("--quick", action="store_true", help="60 training sentences, 1 epoch")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "frozen_lms.md")
    args = ap.parse_args()
    torch.set_num_threads(1)
    work = Path(tempfile.mkdtemp(prefix="frozen-lms-"))
    files = make_splits(work, args.quick)
    gold = Gold(files)
    extra = ["--epochs", "1"] if args.quick else []
    results = []
    for key in args.rows.split(","):
        results.append(row(key, files, gold, work, extra))
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    base = next((r["train_cpu_s"] for r in results if r["row"] == "default"), None)
    head = ["tagger", "train CPU s", "x default", "predict words/s", "test", "unseen", "held-out"]
    lines = [
        [r["name"], f"{r['train_cpu_s']:.0f}",
         f"{r['train_cpu_s'] / base:.2f}" if base else "—", f"{r['predict_wps']:,.0f}",
         f"{r['test']:.4f}", f"{r['unseen']:.4f}", f"{r['heldout']:.4f}"]
        for r in results
    ]  # fmt: skip
    command = "OMP_NUM_THREADS=1 python benchmarks/bench_frozen_lms.py " + " ".join(sys.argv[1:])
    table = f"`{command}` at {git_head()}, one CPU thread.\n\n" + markdown(head, lines)
    save(args.out, table, {"command": command, "rows": results})
    print(table)


if __name__ == "__main__":
    main()
