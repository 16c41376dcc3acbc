"""One row of a tagging comparison, every seed: a peer script in the peers' venv (spaCy, flair)
or a `seqlab finetune tag` command line with `seqlab predict` timed on the test file, each
scored by the bench's gold (gum.Gold) the same way."""

from __future__ import annotations

import json
import os
import shutil

from common.gum import Gold, most_frequent_tag, peer_io, read_tag_lines
from common.lms import LMs
from common.peers import Peers
from common.proc import THREADS, RowError, is_usage_error, last_error, run, say, seqlab_cmd
from common.tables import wps


class TagRows:
    """The rows of one run. `seqlab_rows`: (key, name, finetune command) with {lm:NAME} for an
    LM's run directory (see LMs)."""

    def __init__(self, args, files: dict, gold: Gold, peers: Peers, lms: LMs, seqlab_rows: list):
        self.args, self.files, self.gold, self.peers, self.lms = args, files, gold, peers, lms
        self.seqlab_rows = seqlab_rows

    def lms_of(self, key: str) -> list[str]:
        """The LMs a row needs."""
        if key == "flair-lm":
            return ["flair-fwd", "flair-bwd"]
        for k, _, template in self.seqlab_rows:
            if k == key:
                return list(dict.fromkeys(a[4:-1] for a in template if a.startswith("{lm:")))
        return []

    def row(self, key: str, name: str) -> dict:
        """Every seed of one row; the row's dict, with a message instead of seeds if it
        could not be measured."""
        r: dict = {"key": key, "name": name, "status": "ok", "seeds": []}
        try:
            if key == "flair-lm" and self.args.skip_flair_lm:
                raise RowError("skipped (--skip-flair-lm)")
            used = self.lms_of(key)
            for lm in used:
                self.lms.get(lm)
            if used:
                r["lm_cpu_s"] = self.lms.cpu_s(used)
                r["lms"] = {n: self.lms.done[n] for n in used}
            for seed in range(1, (1 if key == "mft" else self.args.seeds) + 1):
                if key == "mft":
                    s = most_frequent_tag(self.gold)
                elif key in ("spacy", "flair-char", "flair-lm"):
                    s = self.peer(key, seed)
                else:
                    s = self.seqlab(key, seed)
                s["seed"] = seed
                r["seeds"].append(s)
                say(
                    f"  [{key}] seed {seed}: accuracy {s['acc']:.4f}, unseen {s['unseen']:.4f}, "
                    f"train {s['train_cpu_s']:.0f} CPU s, predict {wps([s])} words/s"
                )
        except RowError as e:
            r.update(status="not run", message=str(e), seeds=[])
            say(f"  [{key}] {name}: {e}")
        return r

    def peer(self, key: str, seed: int) -> dict:
        a, f = self.args, self.files
        work = a.work / key / f"seed{seed}"
        work.mkdir(parents=True, exist_ok=True)
        pred = work / "test.pred"
        cmd = ["--train", f["train"], "--dev", f["heldout"], "--test", f["test"]]
        cmd += ["--work", work, "--pred", pred, "--seed", seed] + (["--quick"] if a.quick else [])
        log = a.work / "logs" / f"{key}-{seed}.log"
        if key == "spacy":
            self.peers.need("spacy")
            res, _ = self.peers.script("spacy_tag.py", cmd, log)
        else:
            self.peers.need("flair")
            cmd += ["--epochs", a.flair_epochs, "--bs", a.flair_bs, "--lr", a.flair_lr]
            cmd += ["--optimizer", a.flair_optimizer]
            if key == "flair-char":
                cmd += ["--embeddings", "char"]
            else:
                fwd, bwd = self.lms.get("flair-fwd")["path"], self.lms.get("flair-bwd")["path"]
                cmd += ["--embeddings", "flair", "--lm-fwd", fwd, "--lm-bwd", bwd]
            res, _ = self.peers.script("flair_tag.py", cmd, log)
        acc, unseen = self.gold.score(read_tag_lines(pred))
        return dict(
            acc=acc,
            unseen=unseen,
            train_cpu_s=res["train_cpu_s"],
            predict_wps=res["predict_words"] / max(res["predict_cpu_s"], 1e-9),
            peer=res,
        )

    def seqlab(self, key: str, seed: int) -> dict:
        template = next(t for k, _, t in self.seqlab_rows if k == key)
        args = []
        for a in self.lms.seqlab_args(template):
            args.append(self.lms.get(a[4:-1])["path"] if a.startswith("{lm:") else a)
        out = self.args.work / key / f"seed{seed}"
        f = self.files
        args += [
            "--train", str(f["train"]), "--valid", str(f["heldout"]), "--test", str(f["test"]),
            "--seed", str(seed), "--device", "cpu", "--out", str(out),
        ]  # fmt: skip
        if self.args.quick:
            args += ["--epochs", "1"]
        if out.exists():
            shutil.rmtree(out)
        env = {**os.environ, **THREADS}
        log = self.args.work / "logs" / f"{key}-{seed}.log"
        rc, train_cpu, text = run(seqlab_cmd(args), log, env)
        if is_usage_error(rc, text):
            raise RowError(f"not available in this seqlab: {last_error(text)}")
        if rc != 0:
            raise RowError(f"`seqlab {' '.join(args[:2])}` failed: {last_error(text)} ({log})")
        config = out / "config.json"
        recorded = config.read_text(encoding="utf-8") if config.exists() else ""
        used = self.lms_of(key)
        lost = [n for n in used if json.dumps(self.lms.done[n]["path"])[1:-1] not in recorded]
        if lost:  # e.g. a repeated --encoder that this seqlab's CLI reads as one (the last)
            raise RowError(
                f"not available in this seqlab: the run's config.json does not record LM(s) "
                f"{', '.join(lost)}, so it ignored some of `{' '.join(template[2:])}`"
            )
        # beside the run, not in it: predict never writes into a run directory
        pred = out.parent / f"{out.name}.test.pred.conllu"
        cpus = []
        for name, src, dst in (("test1", f["test1"], out.parent / f"{out.name}.test1.pred.conllu"),
                               ("test", f["test"], pred)):  # fmt: skip
            rc, cpu, text = run(
                seqlab_cmd(["predict", str(out), str(src), "--format", "conllu",
                            "--device", "cpu", "--out", str(dst), "--overwrite"]),
                self.args.work / "logs" / f"{key}-{seed}-predict-{name}.log",
                env,
            )  # fmt: skip
            if rc != 0:
                raise RowError(f"`seqlab predict` failed: {last_error(text)}")
            cpus.append(cpu)
        tags = [ts for _, ts in peer_io.read_conllu(str(pred))]
        acc, unseen = self.gold.score(tags)
        scores = out / "scores.json"
        delta = cpus[1] - cpus[0]
        return dict(
            acc=acc,
            unseen=unseen,
            train_cpu_s=train_cpu,
            # test words / CPU s; None when too few words to time (--quick)
            predict_wps=(self.gold.n_test - self.gold.n_test1) / delta if delta > 0.05 else None,
            predict_cpu_s={"test": cpus[1], "first_sentence": cpus[0]},
            command="seqlab " + " ".join(args),
            seqlab_scores=json.loads(scores.read_text()) if scores.exists() else None,
        )
