"""`dos serve`'s tokens in the memory database (the `tokens` table of migration 008): a record and a SHA-256
digest per token, never the token. Revoking sets `revoked`; a name is never reused, so the ledger entries and
memory events that name a token name only that one."""

from __future__ import annotations

import json
import sqlite3

from dos.adapters.store.sqlite_memory import SqliteMemory, utc_now
from dos.core.errors import TokenRefused, UsageError
from dos.core.domain import Token


class SqliteTokens:
    """TokenStore port (dos.core.ports) on the memory database."""

    def __init__(self, memory: SqliteMemory):
        self.memory = memory

    def add(self, token: Token, digest: str) -> None:
        with self.memory.write() as db:
            existing = db.execute("SELECT revoked FROM tokens WHERE name = ?", (token.name,)).fetchone()
            if existing:
                was = f" (revoked on {existing[0]})" if existing[0] else ""
                raise UsageError(f"a token named '{token.name}' exists{was}; names are never reused, choose another")
            db.execute("INSERT INTO tokens (name, digest, hint, created, sovereignty, skills) VALUES (?, ?, ?, ?, ?, ?)",
                       (token.name, digest, token.hint, token.created,
                        None if token.sovereignty is None else json.dumps(sorted(token.sovereignty)),
                        json.dumps(list(token.skills)) if token.skills else None))

    def find(self, digest: str) -> Token | None:
        row = self.memory.db.execute("SELECT * FROM tokens WHERE digest = ?", (digest,)).fetchone()
        return _token(row) if row else None

    def get(self, name: str) -> Token | None:
        row = self.memory.db.execute("SELECT * FROM tokens WHERE name = ?", (name,)).fetchone()
        return _token(row) if row else None

    def all(self) -> list[Token]:
        return [_token(r) for r in self.memory.db.execute("SELECT * FROM tokens ORDER BY created, name")]

    def revoke(self, name: str) -> Token:
        with self.memory.write() as db:
            row = db.execute("SELECT * FROM tokens WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise TokenRefused(f"no token named '{name}' (see `dos tokens list`)")
            if not row["revoked"]:
                db.execute("UPDATE tokens SET revoked = ? WHERE name = ?", (utc_now(), name))
        return self.get(name)  # type: ignore[return-value]


def _token(row: sqlite3.Row) -> Token:
    sovereignty = json.loads(row["sovereignty"]) if row["sovereignty"] else None
    return Token(row["name"], row["hint"], row["created"], None if sovereignty is None else frozenset(sovereignty),
                 tuple(json.loads(row["skills"])) if row["skills"] else (), row["revoked"])
