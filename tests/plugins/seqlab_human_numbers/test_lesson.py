"""`seqlab pretrain human-numbers --model NAME` and `seqlab lesson human-numbers`, run as a user
runs them (through click), with one epoch so they stay fast."""

import csv
import json
import statistics
from dataclasses import asdict

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from seqlab import BPTTStream, TrainConfig, Trainer, load_model, registry
from seqlab.cli.main import cli
from seqlab_human_numbers.models import Unrolled3Encoder
from seqlab_lm import presets
from seqlab_lm.settings import PretrainSettings

PRESETS = registry.presets("human-numbers")


def run(command, *paths):
    """`seqlab COMMAND PATHS...` through click."""
    return CliRunner().invoke(cli, command.split() + [str(p) for p in paths])


def last_metrics(run_dir):
    with open(run_dir / "metrics.csv") as f:
        return list(csv.DictReader(f))[-1]


def test_pretrain_model0_uses_the_course_settings_and_its_checkpoint_reloads(tmp_path):
    result = run("pretrain human-numbers --model model0 --epochs 1 --device cpu --out", tmp_path)
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["model"] == "model0" and config["encoder_kind"] == "lesson7-unrolled3"
    assert config["data"] == {
        "bs": 64,
        "bptt": 3,
        "layout": "fastai-v1",
        "random_bptt": False,
        "holdout": 0.0,
    }
    assert config["train"]["lr"] == 1e-4 and config["train"]["epochs"] == 1
    assert config["head"]["config"]["last_only"] and not config["head"]["config"]["tie"]

    model, vocab, meta = load_model(tmp_path / "best")
    assert isinstance(model.encoder, Unrolled3Encoder) and meta["model"] == "model0"
    valid = BPTTStream(
        registry.corpus("human-numbers").split("valid"), bs=64, bptt=3, layout="fastai-v1"
    )
    again = Trainer(model, valid, valid, TrainConfig(epochs=1, device="cpu")).evaluate()
    assert again["accuracy"] == pytest.approx(float(last_metrics(tmp_path)["accuracy"]), abs=1e-6)


def test_flags_given_on_the_command_line_override_the_preset(tmp_path):
    result = run(
        "pretrain human-numbers --model model3 --epochs 1 --lr 0.01 --bptt 10 --layout contiguous "
        "--device cpu --out",
        tmp_path,
    )
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["train"]["lr"] == 0.01 and config["data"]["bptt"] == 10
    assert config["data"]["layout"] == "contiguous"
    # what was not given still comes from the preset, not from pretrain's defaults
    assert config["encoder"]["hidden"] == 64 and config["encoder"]["bn"]
    assert config["train"]["clip"] is None and config["encoder_kind"] == "lesson7-loop"


def test_unknown_preset_is_a_one_line_error(tmp_path):
    result = run("pretrain human-numbers --model model9 --out", tmp_path / "run")
    assert result.exit_code == 2
    assert "model9" in result.output and "model0" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "run").exists()


def _perturbed(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 7
    if isinstance(value, float):
        return value + 0.125
    return {"lstm": "gru", "contiguous": "fastai-v1"}.get(value, value)


@settings(max_examples=20, deadline=None)
@given(name=st.sampled_from(list(PRESETS)), data=st.data())
def test_a_preset_does_not_depend_on_pretrains_defaults(name, data):
    """Whatever the defaults of `seqlab pretrain` become, a preset trains the same model on
    the same batches with the same schedule."""
    defaults = asdict(PretrainSettings())
    # the run's choices, not the model's
    free = ["seed", "device", "holdout", "backward", "patience", "amp", "tensorboard"]
    changed = data.draw(st.sets(st.sampled_from(sorted(set(defaults) - set(free)))))
    other = {k: (_perturbed(v) if k in changed else v) for k, v in defaults.items()}

    def config(opts):
        settings = presets.apply(PRESETS[name], PretrainSettings(**opts))
        c = settings.to_config("human-numbers", 38, 1)
        presets.configure(c, name, PRESETS[name])
        for key in free:
            for section in ("data", "encoder", "train"):
                c[section].pop(key, None)
        return c

    assert config(other) == config(defaults)


def test_lesson_trains_presets_over_seeds_and_writes_table_csv_and_chart(tmp_path):
    out = tmp_path / "lesson"
    result = run(
        "lesson human-numbers --models model2,model3 --seeds 2 --epochs 1 --device cpu --out", out
    )
    assert result.exit_code == 0, result.output
    assert "model2" in result.output and "0.350" in result.output  # the course's figure
    with open(out / "lesson.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["model"] for r in rows] == ["model2", "model3"]
    for row in rows:
        accs = [float(last_metrics(out / f"{row['model']}-seed{s}")["accuracy"]) for s in (42, 43)]
        assert float(row["accuracy_mean"]) == pytest.approx(statistics.fmean(accs), abs=1e-4)
        assert float(row["accuracy_sd"]) == pytest.approx(statistics.stdev(accs), abs=1e-4)
        assert row["runs"] == "2"
    assert float(rows[0]["reference_accuracy"]) == 0.35
    assert (out / "lesson.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_lesson_with_one_seed_repeats_pretrain_with_that_model(tmp_path):
    a = run("pretrain human-numbers --model model4 --epochs 1 --device cpu --out", tmp_path / "a")
    b = run("lesson human-numbers --models model4 --epochs 1 --device cpu --out", tmp_path / "b")
    assert a.exit_code == 0 and b.exit_code == 0, a.output + b.output
    lesson_run = tmp_path / "b" / "model4-seed42"
    assert last_metrics(tmp_path / "a")["accuracy"] == last_metrics(lesson_run)["accuracy"]


@pytest.mark.parametrize(
    "args, message",
    [("--models model1,bogus", "bogus"), ("--seeds 0", "--seeds"), ("--models ,", "--models")],
)
def test_lesson_bad_input_is_a_one_line_error(tmp_path, args, message):
    result = run(f"lesson human-numbers {args} --out", tmp_path / "out")
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "out").exists()


def test_lesson_lists_the_presets():
    result = run("lesson human-numbers --list")
    assert result.exit_code == 0
    for name, p in PRESETS.items():
        assert name in result.output and f"{p['reference']['accuracy']:.3f}" in result.output


@pytest.mark.parametrize("args", ["--bptt 5", "--random-bptt"])
def test_model0_with_batches_it_cannot_read_is_refused_before_any_run(tmp_path, args):
    result = run(f"pretrain human-numbers --model model0 {args} --out", tmp_path / "run")
    assert result.exit_code == 2 and "at most 3 tokens" in result.output
    assert not (tmp_path / "run").exists()
