"""human-numbers-roles: each word's role, the splits, and discovery through the registry."""

from hypothesis import given
from hypothesis import strategies as st

from seqlab import registry
from seqlab_human_numbers.numbers import words
from seqlab_human_numbers.roles import example, roles


def test_roles_of_examples():
    assert roles(9231) == ["THOUSANDS", "THOUSAND", "HUNDREDS", "HUNDRED", "TENS", "UNITS"]
    assert roles(1001) == ["THOUSANDS", "THOUSAND", "UNITS"]
    assert roles(100) == ["HUNDREDS", "HUNDRED"]
    assert roles(1) == ["UNITS"]
    assert roles(19) == ["UNITS"]
    assert roles(20) == ["TENS"]
    assert example([21, 1000]) == (
        ["twenty", "one", ",", "one", "thousand"],
        ["TENS", "UNITS", "SEP", "THOUSANDS", "THOUSAND"],
    )


@given(st.integers(1, 9999))
def test_roles_spell_the_number_back(n):
    """Reading the roles gives the number: the roles are enough to parse it."""
    value = {
        "one": 1,
        "two": 2,
        "three": 3,
        "four": 4,
        "five": 5,
        "six": 6,
        "seven": 7,
        "eight": 8,
        "nine": 9,
    }
    teens = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen"
    value.update({w: 10 + i for i, w in enumerate(teens.split())})
    tens = "twenty thirty forty fifty sixty seventy eighty ninety".split()
    value.update({w: 20 + 10 * i for i, w in enumerate(tens)})
    scale = {"THOUSANDS": 1000, "HUNDREDS": 100, "TENS": 1, "UNITS": 1}
    ws, rs = words(n), roles(n)
    assert len(ws) == len(rs)
    assert sum(value[w] * scale[r] for w, r in zip(ws, rs, strict=True) if r in scale) == n


def test_dataset_from_the_registry():
    ds = registry.dataset("human-numbers-roles")
    assert ds["task"] == "tag"
    counts = {k: sum(ws.count(",") + 1 for ws, _ in ds[k]) for k in ("train", "valid", "test")}
    assert counts == {"train": 500, "valid": 250, "test": 1999}
    train = {tuple(ws) for ws, _ in ds["train"]}
    assert not train & {tuple(ws) for ws, _ in ds["valid"]}
    for ws, ts in ds["train"] + ds["test"]:
        assert len(ws) == len(ts) and set(ts) <= set(ds["tags"])
