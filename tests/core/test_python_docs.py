"""docs/python.md runs as written: its python blocks, in order, in an empty directory that holds
a copy of examples/python/ (and its own token cache)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
PAGE = ROOT / "docs" / "python.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_the_python_page_runs_as_written(tmp_path, monkeypatch, capsys):
    shutil.copytree(ROOT / "examples" / "python", tmp_path / "examples" / "python")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEQLAB_CACHE", str(tmp_path / "cache"))
    blocks = python_blocks(PAGE.read_text(encoding="utf-8"))
    assert len(blocks) >= 6  # pretrain, LM, fine-tune, errors, predict, export
    namespace: dict = {}
    for i, block in enumerate(blocks, start=1):
        code = compile(block, f"{PAGE.name}, python block {i}", "exec")
        exec(code, namespace)  # noqa: S102  (our own documentation)
    out = capsys.readouterr().out
    assert "epoch is not a setting of finetune_classify" in out
    assert "missing or malformed field 'encoder'" in out
    # the export left a complete directory, and nothing of the runs is needed
    assert not (tmp_path / "runs").exists()
    files = {p.name for p in (tmp_path / "models" / "reviews").iterdir()}
    assert files == {"config.json", "model.safetensors", "tokenizer.json", "README.md"}


def test_the_samples_are_what_make_data_writes(tmp_path):
    """examples/python/'s files are the script's output, so they can be written again."""
    shutil.copy(ROOT / "examples" / "python" / "make_data.py", tmp_path)
    subprocess.run([sys.executable, str(tmp_path / "make_data.py")], check=True)
    written = sorted(p.name for p in tmp_path.iterdir() if p.name != "make_data.py")
    assert written == ["dev.conll", "text.txt", "train.conll", "train.csv", "valid.csv"]
    for name in written:
        assert (tmp_path / name).read_bytes() == (ROOT / "examples" / "python" / name).read_bytes()
