"""The pretrained LMs a benchmark's rows stand on, by name: flair-fwd and flair-bwd (trained by
flair's own LM trainer, peers/flair_lm.py) and the bench's seqlab `pretrain` command lines.
Each is trained once per run, or reused from --work when the very same command finished there
before (its CPU seconds with it); a row that needs one waits for it."""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections import defaultdict
from pathlib import Path

from common.peers import Peers
from common.proc import THREADS, RowError, is_usage_error, last_error, run, say, seqlab_cmd


class LMs:
    """Every LM of one run; `templates` maps a seqlab LM's name to its `pretrain` command
    (placeholders: {text}, {text_glob}, {lm_epochs})."""

    def __init__(self, args, peers: Peers, texts: list[Path], templates: dict[str, list[str]]):
        self.args, self.peers, self.texts, self.templates = args, peers, texts, templates
        self.done: dict[str, dict] = {}  # name -> {"path", "cpu_s", "cmd", ...} or {"error"}
        self.locks: dict[str, threading.Lock] = defaultdict(threading.Lock)
        self.lock = threading.Lock()
        self.values = {"lm_epochs": args.seqlab_lm_epochs}

    def get(self, name: str) -> dict:
        with self.lock:
            lock = self.locks[name]
        with lock:
            if name not in self.done:
                try:
                    self.done[name] = self._train(name)
                except RowError as e:
                    self.done[name] = {"error": str(e)}
                    say(f"  LM {name}: {e}")
        if "error" in self.done[name]:
            raise RowError(self.done[name]["error"])
        return self.done[name]

    def cpu_s(self, names: list[str]) -> float:
        return sum(self.done[n]["cpu_s"] for n in names)

    def seqlab_args(self, template: list[str]) -> list[str]:
        """A SEQLAB_* template with {text} and the option values filled in ({lm:...} kept)."""
        out = []
        for a in template:
            if a == "{text}":
                out += [str(t) for t in self.texts]
            elif a == "{text_glob}":
                out += [str(self.texts[0].parent / "*.txt"), "--glob"]
            elif a.startswith("{lm:"):
                out.append(a)
            else:
                out.append(a.format(**self.values))
        return out

    def _reuse(self, lm_dir: Path, cmd: list[str]) -> dict | None:
        done = lm_dir / "bench.json"
        if self.args.fresh or not done.exists():
            return None
        saved = json.loads(done.read_text())
        return saved if saved["cmd"] == cmd else None

    def _train(self, name: str) -> dict:
        if name.startswith("flair-"):
            return self._flair(name)
        return self._seqlab(name)

    def _flair(self, name: str) -> dict:
        self.peers.need("flair")
        a = self.args
        lm_dir = a.work / "flair-lm" / name.removeprefix("flair-")
        cmd = [
            *self.texts, "--out", lm_dir, "--hidden", a.char_hidden, "--layers", a.char_layers,
            "--emb-size", a.char_emb, "--seq-len", a.char_seq_len, "--bs", a.char_bs,
            "--budget-cpu-s", a.char_lm_budget, "--max-epochs", a.char_epochs_flair,
        ]  # fmt: skip
        if a.quick:
            cmd += ["--splits", "3", "--valid-chars", "4000"]
        if name == "flair-bwd":
            cmd.append("--backward")
        cmd = [str(c) for c in cmd]
        saved = self._reuse(lm_dir, cmd)
        if saved:
            say(f"  LM {name}: reusing {lm_dir} ({saved['cpu_s']:.0f} CPU s)")
            return saved
        say(f"  LM {name}: training, budget {a.char_lm_budget:.0f} CPU s ...")
        info, cpu = self.peers.script("flair_lm.py", cmd, a.work / "logs" / f"lm-{name}.log")
        bpc = info.get("best_valid_bpc")
        say(
            f"  LM {name}: {cpu:.0f} CPU s, {info['chars_trained'] / info['chars_per_epoch']:.2f} "
            f"epochs, valid {'?' if bpc is None else f'{bpc:.3f}'} bits/char"
        )
        saved = {"cmd": cmd, "cpu_s": cpu, "path": info["model"], "info": info}
        (lm_dir / "bench.json").write_text(json.dumps(saved))
        return saved

    def _seqlab(self, name: str) -> dict:
        lm_dir = self.args.work / "seqlab-lm" / name
        cache = str(self.args.work / "seqlab-cache")
        cmd = [*self.seqlab_args(self.templates[name]), "--device", "cpu", "--cache-dir", cache]
        cmd += ["--out", str(lm_dir)]
        saved = self._reuse(lm_dir, cmd)
        if saved:
            say(f"  LM {name}: reusing {lm_dir} ({saved['cpu_s']:.0f} CPU s)")
            return saved
        say(f"  LM {name}: seqlab {' '.join(cmd)}")
        if lm_dir.exists():
            shutil.rmtree(lm_dir)
        log = self.args.work / "logs" / f"lm-{name}.log"
        rc, cpu, text = run(seqlab_cmd(cmd), log, {**os.environ, **THREADS})
        if is_usage_error(rc, text):
            raise RowError(
                f"not available in this seqlab: its LM {name} "
                f"(`seqlab {' '.join(self.templates[name])}`): {last_error(text)}"
            )
        if rc != 0:
            raise RowError(f"LM {name} failed: {last_error(text)} (log: {log})")
        say(f"  LM {name}: {cpu:.0f} CPU s")
        saved = {"cmd": cmd, "cpu_s": cpu, "path": str(lm_dir)}
        (lm_dir / "bench.json").write_text(json.dumps(saved))
        return saved
