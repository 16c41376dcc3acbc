"""Family `overwrite`: commands that would replace an existing run must refuse (or take
--overwrite); two runs into one new --out: one refuses, the other's run loads."""

from __future__ import annotations

import random
import shutil

from faults.fixtures import TINY_LM, Fixtures, scratch_copy
from faults.harness import Tally, invoke, same_weights, seqlab_process, try_load, weights_of
from faults.stops import SIGNAL_RUN


def fam_overwrite(fx: Fixtures, t: Tally, rng: random.Random, n: int) -> None:
    """Commands that would replace an existing run: they must refuse (or --overwrite)."""
    lm = scratch_copy(fx.get("lm"), fx.root)
    before = weights_of(lm / "best")
    d = fx.get("data")
    cases = [
        ("pretrain --out EXISTING", ["pretrain", "human-numbers", *TINY_LM, "--epochs", "1"]),
        (
            "finetune --encoder RUN --out RUN",
            [
                "finetune",
                "classify",
                "--encoder",
                lm,
                "--train",
                d / "train.csv",
                "--valid",
                d / "valid.csv",
                "--epochs",
                "1",
            ],
        ),  # fmt: skip
    ]
    for desc, args in cases:
        result = invoke(*args, "--out", lm)
        changed = not (lm / "best.json").exists() or not same_weights(
            weights_of(lm / "best"), before
        )
        if result.kind == "ok" or changed:
            t.add("overwritten", desc, result.output[-300:])
        else:
            t.add("ok" if result.kind == "one-line" else result.kind, desc, result.output[-300:])
    # two commands into one new --out at once: one must refuse, the other's run must load
    target = fx.root / "twice"
    procs = [seqlab_process(*SIGNAL_RUN[:-2], "--seed", str(s), "--out", target) for s in (1, 2)]
    codes = [p.wait(timeout=600) for p in procs]
    errs = [p.stderr.read() if p.stderr else "" for p in procs]
    for p in procs:
        p.communicate()
    if codes.count(0) == 2:
        t.add("overwritten", "two pretrain into one --out: both exit 0", " | ".join(errs)[-300:])
    else:
        outcome, detail, _ = try_load(target / "last")
        t.add("ok" if outcome == "ok" else "unloadable", "two pretrain into one --out", detail)
    shutil.rmtree(lm, ignore_errors=True)
