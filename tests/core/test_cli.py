"""The core commands, run as a user runs them (through click, no subprocess)."""

from click.testing import CliRunner

from seqlab.cli.main import cli
from seqlab_human_numbers.numbers import text


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_show_batch_tsv_prints_rows_of_the_chosen_batch():
    result = run("show-batch", "human-numbers", "--split", "valid", "--rows", "2", "--tsv")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == 2
    idx, row0 = lines[0].split("\t")
    assert idx == "0" and row0.startswith("xxbos eight thousand one , eight thousand two ,")
    assert len(row0.split()) == 70


def test_show_batch_rows_join_up_across_batches():
    first = run("show-batch", "human-numbers", "--bs", "4", "--bptt", "5", "--tsv", "--rows", "4")
    second = run(
        "show-batch",
        "human-numbers",
        "--bs",
        "4",
        "--bptt",
        "5",
        "--tsv",
        "--batch",
        "2",
        "--rows",
        "4",
    )
    rows1 = [line.split("\t")[1].split() for line in first.output.splitlines()]
    rows2 = [line.split("\t")[1].split() for line in second.output.splitlines()]
    assert rows1[0] + rows2[0] == "xxbos one , two , three , four , five".split()
    assert all(len(r) == 5 for r in rows1 + rows2)


def test_show_batch_fastai_layout_wraps_around():
    result = run(
        "show-batch",
        "human-numbers",
        "--split",
        "valid",
        "--layout",
        "fastai-v1",
        "--batch",
        "3",
        "--rows",
        "64",
        "--tsv",
    )
    last = result.output.splitlines()[-1].split("\t")[1]
    assert last.endswith(f"{text(9999)} xxbos eight thousand one , eight")


def test_show_batch_table_names_the_batch():
    result = run("show-batch", "human-numbers", "--rows", "1")
    assert result.exit_code == 0
    assert "batch 1 of" in result.output and "xxbos one , two" in result.output


def test_export_writes_fastai_files(tmp_path):
    result = run("export", "human-numbers", str(tmp_path / "hn"))
    assert result.exit_code == 0
    assert (tmp_path / "hn" / "valid.txt").read_text().splitlines()[0] == "eight thousand one"


def test_plugins_lists_the_built_in_ones():
    result = run("plugins")
    assert result.exit_code == 0
    for name in ("human-numbers", "pretrain", "lm"):
        assert name in result.output


def assert_user_error(result, *words):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    message = result.output.strip().splitlines()[-1]
    assert message.startswith("Error:")
    for w in words:
        assert w in message


def test_user_mistakes_are_one_line_errors_with_exit_code_2(tmp_path):
    assert_user_error(run("show-batch", "human-numbers", "--bs", "0"), "bs")
    assert_user_error(run("show-batch", "human-numbers", "--bptt", "0"), "bptt")
    assert_user_error(run("show-batch", "no-such-corpus"), "no-such-corpus", "human-numbers")
    assert_user_error(run("show-batch", "human-numbers", "--batch", "9999"), "--batch")
    assert_user_error(run("show-batch", "human-numbers", "--split", "test"), "test", "valid")
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert_user_error(run("export", "human-numbers", str(blocker / "sub")), str(blocker / "sub"))
