"""A real `dos serve` process on a free loopback port, its DOS_HOME, and the official OpenAI SDK pointed at it."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import openai

from tests.conftest import Result, clean_env


class Served:
    def __init__(self, home: Path, workdir: Path):
        self.home, self.workdir = home, workdir
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.log: list[str] = []

    def start(self, *args: str) -> Served:
        self.proc = subprocess.Popen([sys.executable, "-m", "dos", "serve", "--port", "0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env(self.home),
                                     cwd=self.workdir, text=True)
        threading.Thread(target=self._keep_stderr, daemon=True).start()
        deadline = time.monotonic() + 180
        line = ""
        while "listening on" not in line:
            line = self.proc.stdout.readline()  # type: ignore[union-attr]
            if not line and self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"dos serve did not start: {''.join(self.log)}")
        self.url = line.split("listening on ", 1)[1].strip()
        return self

    def _keep_stderr(self) -> None:
        for line in self.proc.stderr:  # type: ignore[union-attr]
            self.log.append(line)

    def stop(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()

    def dos(self, *args: str) -> Result:
        proc = subprocess.run([sys.executable, "-m", "dos", *args], capture_output=True, text=True,
                              env=clean_env(self.home), cwd=self.workdir, timeout=120)
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def token(self, name: str, *options: str) -> str:
        made = self.dos("tokens", "create", name, *options)
        assert made.code == 0, made.err
        return made.out.strip()

    def client(self, token: str) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.url, api_key=token, max_retries=0, timeout=180)

    def rows(self, sql: str, *args: object) -> list[sqlite3.Row]:
        db = sqlite3.connect(f"file:{self.home / 'data' / 'memory.db'}?mode=ro", uri=True)
        db.row_factory = sqlite3.Row
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()

    def responses(self, token_name: str) -> list[sqlite3.Row]:
        return self.rows("SELECT * FROM events WHERE kind = 'response' AND json_extract(data, '$.client') = ? "
                         "ORDER BY seq", token_name)

    def debits(self, token_name: str) -> list[sqlite3.Row]:
        return self.rows("SELECT * FROM ledger WHERE kind = 'debit' AND token = ? ORDER BY seq", token_name)
