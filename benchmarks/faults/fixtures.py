"""The tiny runs the families break, built once and on first use: LMs of two sizes (for swaps),
a classifier, a tagger, an exported model directory, and a scratch copy for each case."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from faults.harness import invoke

TINY_LM = ["--hidden", "16", "--emb-size", "8", "--layers", "1", "--bs", "32", "--bptt", "20"]
TINY_LM += ["--fixed-bptt"]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


class Fixtures:
    """Tiny runs built once: LMs (two, of different sizes, for swaps), a classifier, a tagger,
    an exported model directory. Built on first use."""

    def __init__(self, root: Path, quick: bool):
        self.root, self.quick = root, quick
        self._made: dict[str, Path] = {}
        self.reference_seconds = 0.0

    def get(self, name: str) -> Path:
        if name not in self._made:
            self._made[name] = getattr(self, f"_make_{name.replace('-', '_')}")()
        return self._made[name]

    def _train(self, name: str, *args: Any) -> Path:
        out = self.root / name
        result = invoke(*args, "--out", out, timeout=600)
        if result.kind != "ok":
            raise RuntimeError(f"fixture {name} failed: {result.output[-2000:]}")
        return out

    def _make_lm(self) -> Path:
        epochs = (
            ("--epochs", "1", "--bs", "64", "--bptt", "40") if self.quick else ("--epochs", "2")
        )
        args = ("pretrain", "human-numbers", *TINY_LM, *epochs, "--seed", "1")
        return self._train("lm", *args)

    def _make_lm2(self) -> Path:
        tiny = [a if a != "16" else "24" for a in TINY_LM]  # another hidden size
        return self._train("lm2", "pretrain", "human-numbers", *tiny, "--epochs", "1")

    def _make_data(self) -> Path:
        """The sample files of examples/ (a user's first data), as train and valid."""
        data = self.root / "data"
        data.mkdir(exist_ok=True)
        for src, dst in (
            ("train.csv", "train.csv"),
            ("valid.csv", "valid.csv"),
            ("train.conll", "train.conll"),
            ("dev.conll", "valid.conll"),
        ):
            shutil.copy(EXAMPLES / src, data / dst)
        return data

    def _make_clf(self) -> Path:
        d = self.get("data")
        args = ("finetune", "classify", "--from-scratch", "--train", d / "train.csv")
        tiny = ("--epochs", "1", "--bs", "8", "--lin", "8", "--hidden", "16", "--emb-size", "8")
        return self._train("clf", *args, "--valid", d / "valid.csv", *tiny)

    def _make_tagger(self) -> Path:
        d = self.get("data")
        args = ("finetune", "tag", "--train", d / "train.conll", "--valid", d / "valid.conll")
        return self._train("tagger", *args, "--epochs", "1")

    def _make_model_dir(self) -> Path:
        out = self.root / "model-dir"
        result = invoke("export-model", self.get("clf"), out)
        if result.kind != "ok":
            raise RuntimeError(f"export-model failed: {result.output[-2000:]}")
        return out


def scratch_copy(src: Path, root: Path) -> Path:
    dst = Path(tempfile.mkdtemp(prefix=f"{src.name}-", dir=root))
    shutil.rmtree(dst)
    shutil.copytree(src, dst)
    return dst


JUNK_VALUES: list[Any] = ["x", "", [], {}, None, True, -1, 0, 0.5, 10**7, 1e9, 10**12]
