"""The fast part of the fault benchmark (benchmarks/bench_faults.py --quick, its families in
benchmarks/faults/), and a property: a checkpoint changed in any way either loads with the
weights it was saved with, or is refused with one `CheckpointError` line, never another
exception."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqlab import load_model
from seqlab.cli.main import cli
from seqlab.store.checkpoint import load_tensors
from seqlab.store.errors import CheckpointError

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
import faults  # noqa: E402  (benchmarks/faults/: the fault families)
from faults.corrupt import fix_sha  # noqa: E402
from faults.harness import verdict  # noqa: E402


@pytest.fixture(scope="module")
def lm_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("faults") / "lm"
    args = ["pretrain", "human-numbers", "--hidden", "8", "--emb-size", "8", "--layers", "1"]
    args += ["--bs", "32", "--bptt", "20", "--epochs", "1", "--out", str(out)]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


def test_quick_fault_families_have_no_failures(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQLAB_CACHE", str(tmp_path / "cache"))
    tallies = faults.run_families(list(faults.QUICK), tmp_path, quick=True, seed=0)
    report = faults.table(tallies) + "\n" + "\n".join(n for t in tallies for n in t.notes)
    for t in tallies:
        assert t.skipped is None and t.cases > 0, report
        assert t.failures == 0, report
        assert t.counts["ok"] + t.counts["one-line"] == t.cases, report


def test_the_verdict_tells_one_line_errors_from_tracebacks():
    assert verdict(2, "run directory: x\nError: --hidden must be at least 1") == "one-line"
    assert verdict(1, "Traceback (most recent call last):\n  ...") == "traceback"
    assert verdict(2, "Error: a\nError: b") == "traceback"  # once per torchrun rank
    assert verdict(0, "") == "ok" and verdict(130, "", (0, 130)) == "ok"


# -- hypothesis: any edit of a checkpoint -------------------------------------------------------

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.lists(st.integers(0, 5), max_size=3),
    st.just({}),
)


def paths(value, prefix=()):
    out = []
    items = value.items() if isinstance(value, dict) else enumerate(value[:3])
    for k, v in items:
        out.append((*prefix, k))
        if isinstance(v, dict | list):
            out += paths(v, (*prefix, k))
    return out


def assert_loads_same_or_refused(stem: Path, original: dict) -> None:
    try:
        model, _, _ = load_model(stem)
    except CheckpointError as e:
        assert "\n" not in str(e) and str(stem.parent) in str(e)
        return
    state = model.state_dict()
    assert all(torch.equal(state[k], original[k]) for k in original)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_an_edited_checkpoint_json_loads_the_same_weights_or_is_refused(
    lm_run, tmp_path_factory, data
):
    original = load_tensors(lm_run / "best")[0]
    meta = json.loads((lm_run / "best.json").read_text())
    run = tmp_path_factory.mktemp("edit")
    shutil.copy(lm_run / "best.safetensors", run / "best.safetensors")
    path = data.draw(st.sampled_from(paths(meta)))
    parent = meta
    for k in path[:-1]:
        parent = parent[k]
    if isinstance(parent, dict) and data.draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(JUNK)
    (run / "best.json").write_text(json.dumps(meta))
    assert_loads_same_or_refused(run / "best", original)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_checkpoint_with_changed_bytes_loads_the_same_weights_or_is_refused(
    lm_run, tmp_path_factory, data
):
    """Bytes flipped or cut, in the weights or the JSON, with the sha256 made to match the
    new weights or not: the checks behind the hash must hold on their own."""
    original = load_tensors(lm_run / "best")[0]
    run = tmp_path_factory.mktemp("bytes")
    name = data.draw(st.sampled_from(["best.safetensors", "best.json"]))
    for f in ("best.safetensors", "best.json"):
        shutil.copy(lm_run / f, run / f)
    raw = bytearray((run / name).read_bytes())
    if data.draw(st.booleans()):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] ^= data.draw(st.integers(1, 255))
    else:
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    (run / name).write_bytes(bytes(raw))
    if name == "best.safetensors" and data.draw(st.booleans()):
        fix_sha(run / "best")
        try:
            model, _, _ = load_model(run / "best")
        except CheckpointError as e:
            assert "\n" not in str(e)
        else:  # a consistent file with other numbers in it: a different, valid model
            assert set(model.state_dict()) >= set(original)
        return
    assert_loads_same_or_refused(run / "best", original)


def test_a_pickle_renamed_to_safetensors_is_refused_not_loaded(lm_run, tmp_path):
    import pickle

    class Boom:
        def __reduce__(self):
            return (print, ("code ran",))

    for f in ("best.safetensors", "best.json"):
        shutil.copy(lm_run / f, tmp_path / f)
    (tmp_path / "best.safetensors").write_bytes(pickle.dumps(Boom()))
    fix_sha(tmp_path / "best")
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        load_model(tmp_path / "best")


def test_sizes_beyond_the_weights_are_refused_before_building(lm_run, tmp_path):
    for f in ("best.safetensors", "best.json"):
        shutil.copy(lm_run / f, tmp_path / f)
    meta = json.loads((lm_run / "best.json").read_text())
    for key, value in (("layers", 10**7), ("hidden", 1e9), ("vocab_size", 10**12)):
        edited = {**meta, "encoder": {**meta["encoder"], key: value}}
        (tmp_path / "best.json").write_text(json.dumps(edited))
        with pytest.raises(CheckpointError, match=rf"field 'encoder.{key}'"):
            load_model(tmp_path / "best")


# -- limits and meaning of options ---------------------------------------------------------------


def test_a_line_past_the_limit_is_an_error_naming_file_and_line(tmp_path):
    from seqlab.data.textfiles import TextFileError, check_line_lengths, read_pieces

    path = tmp_path / "t.txt"
    path.write_text("one two\nthree\n" + "a" * 1000 + "\nfour\n")
    with pytest.raises(TextFileError, match=r"t.txt, line 3: more than"):
        list(read_pieces(path, block=64, max_line=256))
    text = "".join(t for _, _, t in read_pieces(path, block=64, max_line=2000))
    assert text == path.read_text()  # under the limit, a long line is read whole
    with pytest.raises(TextFileError, match=r"in.txt, line 2: 1,000 characters"):
        check_line_lengths("ok\n" + "b" * 1000, "in.txt", limit=999)


def test_settings_from_json_are_checked_for_type_and_meaning():
    from seqlab.nn.encoder import EncoderConfig
    from seqlab.settings import SettingError
    from seqlab.tasks.finetune import FinetuneSettings
    from seqlab.train.trainer import TrainConfig

    with pytest.raises(SettingError, match="epochs must be a whole number, got 'ten'"):
        FinetuneSettings(epochs="ten")
    with pytest.raises(SettingError, match="lr must be a finite number"):
        FinetuneSettings(lr=float("nan"))
    with pytest.raises(SettingError, match="lr_factor must be at least 1"):
        FinetuneSettings(lr_factor=0.0)
    with pytest.raises(ValueError, match="epochs must be in"):
        TrainConfig(epochs=10**12)
    with pytest.raises(ValueError, match="clip must be at least 0"):
        TrainConfig(clip=-1.0)
    with pytest.raises(SettingError, match=r"hidden 1000000000 makes a model of .* memory"):
        EncoderConfig(vocab_size=40, hidden=10**9)
    with pytest.raises(SettingError, match=r"layers 10000000 makes a model"):
        EncoderConfig(vocab_size=40, hidden=64, layers=10**7)
