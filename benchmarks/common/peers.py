"""The peers' own virtual environment (spaCy, flair, fastText: never seqlab dependencies),
created and filled once, reused when it imports them, and the peer scripts of peers/ run in it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from common.proc import THREADS, RowError, last_error, run, say

PEERS = Path(__file__).resolve().parents[1] / "peers"


class Peers:
    """The peers' virtual environment: created and filled once, reused when it imports them."""

    def __init__(self, args, logs: Path):
        self.venv, self.args, self.logs = args.peers_venv, args, logs
        self.python = self.venv / "bin" / "python"
        self.status: dict[str, str | None] = {}  # package -> None (ok) or why not
        self.lock = threading.Lock()

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env.update(THREADS, PYTHONNOUSERSITE="1", TOKENIZERS_PARALLELISM="false")
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        return env

    def imports(self, module: str) -> bool:
        if not self.python.exists():
            return False
        done = subprocess.run(
            [str(self.python), "-c", f"import {module}"], env=self.env(), capture_output=True
        )
        return done.returncode == 0

    def pip(self, *spec: str, log: Path) -> tuple[int, str]:
        rc, _, text = run([self.python, "-m", "pip", "install", *spec], log, self.env())
        return rc, text

    def need(self, package: str) -> None:
        """Make sure `package` (spacy or flair) imports in the venv; RowError if it cannot."""
        with self.lock:
            if package not in self.status:
                why = self._install(package)
                self.status[package] = (
                    None if why is None else f"{why} (log: {self.logs}/pip-{package}.log)"
                )
        if self.status[package]:
            raise RowError(self.status[package])

    def _install(self, package: str) -> str | None:
        if self.imports(package):
            return None
        if not self.python.exists():
            say(f"  creating the peers' virtual environment {self.venv}")
            self.venv.parent.mkdir(parents=True, exist_ok=True)
            rc, _, text = run([sys.executable, "-m", "venv", self.venv], self.logs / "venv.log")
            if rc != 0:
                return f"`python -m venv {self.venv}` failed: {last_error(text)}"
        if not self.imports("torch"):
            say(f"  pip install {self.args.peers_torch} (CPU torch, for flair) ...")
            # a spec of several words ("torch --index-url URL") is several pip arguments
            rc, text = self.pip(*self.args.peers_torch.split(), log=self.logs / "pip-torch.log")
            if rc != 0:
                return f"pip install {self.args.peers_torch} failed: {last_error(text)}"
        say(f"  pip install {package} ...")
        rc, text = self.pip(package, log=self.logs / f"pip-{package}.log")
        if rc != 0 or not self.imports(package):
            return f"pip install {package} failed: {last_error(text)}"
        return None

    def version(self, package: str) -> str:
        done = subprocess.run(
            [str(self.python), "-c", f"import {package}; print({package}.__version__)"],
            env=self.env(),
            capture_output=True,
            text=True,
        )
        return done.stdout.strip()

    def script(self, name: str, args: list, log: Path) -> tuple[dict, float]:
        """Run peers/NAME in the venv; (its RESULT dict, the process's CPU seconds)."""
        rc, cpu, text = run([self.python, PEERS / name, *args], log, self.env())
        results = [ln for ln in text.splitlines() if ln.startswith("RESULT ")]
        if rc != 0 or not results:
            raise RowError(f"{name} failed (exit {rc}): {last_error(text)} (log: {log})")
        return json.loads(results[-1][len("RESULT ") :]), cpu
