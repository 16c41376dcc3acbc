import json

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from seqlab import CheckpointError
from seqlab.data.files import atomic_write
from seqlab.store.checkpoint import load_model_tensors, load_tensors, model_tensors, save_tensors

shapes = st.lists(st.integers(0, 4), min_size=0, max_size=3)
dtypes = st.sampled_from([torch.float32, torch.float64, torch.int64, torch.uint8])


@settings(max_examples=40, deadline=None)
@given(
    st.dictionaries(
        st.text("abcxyz.", min_size=1, max_size=8), st.tuples(shapes, dtypes), max_size=5
    )
)
def test_tensors_and_meta_round_trip(tmp_path_factory, spec):
    stem = tmp_path_factory.mktemp("ckpt") / "model"
    tensors = {k: (torch.rand(s) * 100).to(d) for k, (s, d) in spec.items()}
    meta = {"vocab": ["xxunk", "a"], "epoch": 3}
    save_tensors(stem, tensors, meta)
    got, got_meta = load_tensors(stem)
    assert set(got) == set(tensors)
    for k in tensors:
        assert got[k].dtype == tensors[k].dtype and torch.equal(got[k], tensors[k])
    assert got_meta["vocab"] == meta["vocab"] and got_meta["epoch"] == 3
    assert {"torch", "seqlab", "python"} <= set(got_meta["versions"])


class Tied(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(5, 3)
        self.dec = nn.Linear(3, 5)
        self.dec.weight = self.emb.weight


def test_tied_weights_are_stored_once_and_stay_tied(tmp_path):
    a = Tied()
    tensors, aliases = model_tensors(a)
    assert aliases == {"dec.weight": "emb.weight"}
    save_tensors(tmp_path / "m", tensors, {"aliases": aliases})
    b = Tied()
    got, meta = load_tensors(tmp_path / "m")
    load_model_tensors(b, got, meta["aliases"])
    assert torch.equal(b.dec.weight, a.emb.weight)
    assert b.dec.weight is b.emb.weight


def test_a_tampered_weight_file_is_refused(tmp_path):
    save_tensors(tmp_path / "m", {"w": torch.ones(3)}, {})
    save_tensors(tmp_path / "other", {"w": torch.zeros(3)}, {})
    (tmp_path / "m.safetensors").write_bytes((tmp_path / "other.safetensors").read_bytes())
    with pytest.raises(CheckpointError, match="sha256"):
        load_tensors(tmp_path / "m")


def test_missing_or_foreign_checkpoints_are_clear_errors(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_tensors(tmp_path / "nothing")
    save_tensors(tmp_path / "m", {"w": torch.ones(1)}, {})
    meta = json.loads((tmp_path / "m.json").read_text())
    (tmp_path / "m.json").write_text(json.dumps({**meta, "format": 99}))
    with pytest.raises(CheckpointError, match="format 99"):
        load_tensors(tmp_path / "m")


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "f.json"
    atomic_write(path, "old")

    def crash(fd):
        raise OSError("disk full")

    monkeypatch.setattr("seqlab.store.checkpoint.os.fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, "new")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]
