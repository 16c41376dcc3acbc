"""RunLog: the epoch table, metrics.csv and curves.png, apart from the Trainer's loop."""

import csv
import io
import subprocess
import sys

import numpy as np
import pytest
from conftest import TinyLMHead
from rich.console import Console

from seqlab.data.stream import BPTTStream
from seqlab.nn.encoder import EncoderConfig, StatefulEncoder
from seqlab.nn.model import SeqModel
from seqlab.train.runlog import RunLog, format_header, format_row, metrics_csv
from seqlab.train.trainer import Interrupted, TrainConfig, Trainer, seed_everything

STREAM = np.tile(np.arange(2, 12, dtype=np.uint16), 100)


def make_trainer(run_dir=None, epochs=2, **kw):
    seed_everything(0)
    enc = StatefulEncoder(EncoderConfig(vocab_size=12, hidden=8))
    train = BPTTStream(STREAM, bs=4, bptt=10)
    valid = BPTTStream(STREAM[:300], bs=2, bptt=10)
    config = TrainConfig(epochs=epochs, lr=1e-2, device="cpu")
    return Trainer(SeqModel(enc, TinyLMHead(enc)), train, valid, config, run_dir=run_dir, **kw)


def test_quiet_prints_nothing_yet_writes_metrics_and_curves(tmp_path, capsys):
    make_trainer(tmp_path, epochs=2, log=RunLog(quiet=True)).fit()
    assert capsys.readouterr() == ("", "")
    with open(tmp_path / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["0", "1"]
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_epoch_table_has_a_header_and_one_row_per_epoch():
    out = io.StringIO()
    trainer = make_trainer(epochs=3, log=RunLog(Console(file=out, width=200)))
    trainer.fit()
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["epoch", "train_loss", "valid_loss", "accuracy", "time"]
    assert [line.split()[0] for line in lines[1:]] == ["0", "1", "2"]
    assert lines[1:] == [format_row(row) for row in trainer.history]


def test_by_default_the_table_goes_to_stdout_and_a_console_is_still_accepted(capsys):
    make_trainer(epochs=1).fit()
    out, err = capsys.readouterr()
    assert out.splitlines()[0].startswith("epoch") and len(out.splitlines()) == 2
    assert err == ""
    quiet = Console(quiet=True)
    make_trainer(epochs=1, console=quiet).fit()
    assert capsys.readouterr() == ("", "")
    with pytest.raises(ValueError, match="console or a log"):
        make_trainer(console=quiet, log=RunLog())


def test_ctrl_c_draws_the_curves_so_far(tmp_path):
    def stop_in_epoch_1(trainer, event, step):
        if event == "step_end" and trainer.epoch == 1 and step == 2:
            raise KeyboardInterrupt

    trainer = make_trainer(tmp_path, epochs=2, log=RunLog(quiet=True))
    trainer.callbacks.append(stop_in_epoch_1)
    with pytest.raises(Interrupted):
        trainer.fit()
    # epoch 0 was neither the last nor PLOT_EVERY_S long: only the interrupt drew this
    assert (tmp_path / "curves.png").is_file()


def test_without_a_run_dir_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_trainer(log=RunLog(quiet=True)).fit()
    assert list(tmp_path.iterdir()) == []


def test_rows_and_csv_format_numbers_as_the_table_always_has():
    row = {"epoch": 1.0, "train_loss": 2.5, "valid_loss": float("nan"), "time": 75.4}
    assert format_header(list(row)).split() == list(row)
    assert format_row(row).split() == ["1", "2.500000", "nan", "01:15"]
    assert metrics_csv([row]).splitlines() == [
        "epoch,train_loss,valid_loss,time",
        "1,2.500000,nan,75.400000",
    ]
    assert metrics_csv([]) == ""


def test_importing_the_library_loads_no_ui_library():
    """The library sits below the CLI: click, rich and matplotlib load only when used."""
    code = (
        "import sys, seqlab, seqlab.train.trainer, seqlab.train.runlog, seqlab.train.plot, "
        "seqlab.store.checkpoint, "
        "seqlab.tasks.finetune, seqlab.settings, seqlab.tasks.predict, seqlab.tasks.transfer; "
        "print([m for m in ('click', 'rich', 'matplotlib') if m in sys.modules])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
