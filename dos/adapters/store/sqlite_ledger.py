"""The credit ledger on the memory database (the `ledger` and `budgets` tables of migration 007).

Entries are append-only (triggers), hash-chained (migration 009: `hash` covers the entry and the hash before it,
read inside the write lock) and idempotent (a UNIQUE key: a retried write is a no-op). Every write takes
the write lock up front (`BEGIN IMMEDIATE`, through SqliteMemory.write), and a hold reads the standings and
writes itself inside that one lock, so processes spending at once never overshoot a budget. Balances and spend
are sums over entries (and the views of migration 007), never a stored counter. Holds of dead processes are
released when the ledger is first used, as memory recovers the inflight turns of dead processes.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from dos.adapters.store.memory_schema import GENESIS, ledger_hash
from dos.adapters.files.processes import alive
from dos.adapters.store.sqlite_memory import SqliteMemory, utc_now
from dos.core.errors import StorageError, UsageError
from dos.core.ids import new_id
from dos.core.routing.ledger import (
    KINDS,
    PERIODS,
    SCOPES,
    Budget,
    Charge,
    Standing,
    applicable,
    format_amount,
    iso,
    period_start,
)

FIELDS = ("turn_id", "route_event_id", "session_id", "skill", "pack", "token", "model", "prompt_tokens",
          "completion_tokens", "cost_source", "note")
_SCOPE_SQL = {"all": "1", "skill": "skill = ?", "pack": "pack = ?", "token": "token = ?"}
_OPEN = "NOT EXISTS (SELECT 1 FROM ledger x WHERE x.ref = h.id AND x.kind IN ('debit', 'release'))"


class SqliteLedger:
    """Ledger port (dos.core.ports.Ledger) plus what `dos credits`, `dos budget` and `dos ledger` show."""

    def __init__(self, memory: SqliteMemory, now: Callable[[], float] = time.time):
        self.memory = memory
        self.now = now
        self._recovered = False

    @property
    def db(self) -> sqlite3.Connection:
        db = self.memory.db
        if not self._recovered:
            self._recovered = True
            self.release_stale()
        return db

    def _moment(self) -> datetime:
        return datetime.fromtimestamp(self.now(), timezone.utc)

    # -- writing ---------------------------------------------------------------------------------------

    def _insert(self, db: sqlite3.Connection, kind: str, amount: int, key: str, fields: dict[str, Any],
                reserved: int = 0, ref: str | None = None) -> tuple[str, bool]:
        """(id, written): an entry with an existing key is not written again; its id is returned."""
        if kind not in KINDS:
            raise UsageError(f"unknown ledger entry kind {kind!r}")
        if not isinstance(amount, int) or not isinstance(reserved, int):
            raise UsageError("ledger amounts are whole micro-credits")
        row = {"id": new_id(), "ts": iso(self._moment()), "kind": kind, "amount": amount, "reserved": reserved,
               "key": key, "ref": ref, "pid": os.getpid()}
        row |= {k: fields[k] for k in FIELDS if fields.get(k) is not None}
        tip = db.execute("SELECT hash FROM ledger ORDER BY seq DESC LIMIT 1").fetchone()  # inside the write lock
        row["prev_hash"] = tip[0] if tip else GENESIS
        row["hash"] = ledger_hash(row["prev_hash"], row)
        cur = db.execute(
            f"INSERT INTO ledger ({', '.join(row)}) VALUES ({', '.join('?' * len(row))}) ON CONFLICT(key) DO NOTHING",
            list(row.values()),
        )
        if cur.rowcount:
            return row["id"], True
        return db.execute("SELECT id FROM ledger WHERE key = ?", (key,)).fetchone()[0], False

    def record(self, kind: str, amount: int, key: str | None = None, **fields: Any) -> dict[str, Any]:
        """Appends one grant, refund or adjust (idempotent on `key`); returns the entry."""
        if kind not in ("grant", "refund", "adjust"):
            raise UsageError(f"only grant, refund and adjust entries are written by hand, not {kind!r}")
        if kind in ("grant", "refund") and amount < 0:
            raise UsageError(f"a {kind} must not be negative (use an adjust entry)")
        key = key or f"{kind}:{new_id()}"
        with self.memory.write() as db:
            ident, written = self._insert(db, kind, amount, key, fields)
        return self.entry(ident) | {"written": written}

    def refund(self, turn_id: str, amount: int | None, note: str = "", key: str | None = None) -> dict[str, Any]:
        """Give back what a turn was debited (all of what is left of it, or `amount`), charged to the same skill,
        pack, model and token, so the budgets that counted the debit count the refund. Idempotent on `key`."""
        with self.memory.write() as db:
            rows = db.execute("SELECT * FROM ledger WHERE turn_id = ? AND kind IN ('debit', 'refund') ORDER BY seq",
                              (turn_id,)).fetchall()
            debits = [r for r in rows if r["kind"] == "debit"]
            if not debits:
                raise UsageError(f"no debit names turn {turn_id} (see `dos ledger`)")
            left = -sum(r["amount"] for r in rows)
            amount = left if amount is None else amount
            if key and db.execute("SELECT 1 FROM ledger WHERE key = ?", (key,)).fetchone():
                left = max(left, amount)  # a retried refund is a no-op below, not an error
            if amount <= 0 or amount > left:
                raise UsageError(f"turn {turn_id} was debited {format_amount(-sum(r['amount'] for r in debits))} and "
                                 f"has {format_amount(left)} left to refund; cannot refund {format_amount(amount)}")
            first = debits[0]
            fields = {k: first[k] for k in ("turn_id", "session_id", "skill", "pack", "model", "token")} | {"note": note}
            ident, written = self._insert(db, "refund", amount, key or f"refund:{new_id()}", fields)
        return self.entry(ident) | {"written": written}

    def grant(self, amount: int, note: str = "", key: str | None = None) -> dict[str, Any]:
        return self.record("grant", amount, key, note=note)

    def hold(self, charge: Charge, amount: int, key: str, decide: Callable[[list[Standing]], str | None],
             fields: dict[str, Any]) -> tuple[str | None, str | None]:
        """Reserve `amount` unless `decide`, run on the standings read inside the same write lock, refuses."""
        self.db  # noqa: B018 - release stale holds before reading standings
        with self.memory.write() as db:
            existing = db.execute("SELECT id FROM ledger WHERE key = ?", (key,)).fetchone()
            if existing:
                return None, existing[0]
            refused = decide(self._standings(db, charge))
            if refused:
                return refused, None
            ident, _ = self._insert(db, "hold", 0, key, fields, reserved=amount)
        return None, ident

    def debit(self, key: str, amount: int, hold_id: str | None, fields: dict[str, Any]) -> None:
        """A call's cost (`amount` <= 0), closing its hold if it had one. Idempotent on `key`."""
        with self.memory.write() as db:
            self._insert(db, "debit", amount, key, fields, ref=hold_id)

    def release_stale(self) -> int:
        """Releases the open holds of processes that died before settling; returns how many."""
        db = self.memory.db
        rows = db.execute(f"SELECT id, pid FROM ledger AS h WHERE kind = 'hold' AND {_OPEN}").fetchall()
        dead = [r["id"] for r in rows if r["pid"] is None or (r["pid"] != os.getpid() and not alive(r["pid"]))]
        for hold_id in dead:
            with self.memory.write() as db:
                self._insert(db, "release", 0, f"release:{hold_id}", {"note": "holder died"}, ref=hold_id)
        return len(dead)

    # -- budgets (settings, not counters) --------------------------------------------------------------

    def budgets(self) -> list[Budget]:
        rows = self.db.execute("SELECT * FROM budgets ORDER BY scope, name, period").fetchall()
        return [Budget(r["scope"], r["name"], r["period"], r["limit_micro"]) for r in rows]

    def set_budget(self, scope: str, name: str, period: str, limit: int) -> Budget:
        if scope not in SCOPES or period not in PERIODS:
            raise UsageError(f"bad budget {scope}/{period}")
        with self.memory.write() as db:
            db.execute("INSERT OR REPLACE INTO budgets VALUES (?, ?, ?, ?, ?)", (scope, name, period, limit, utc_now()))
        return Budget(scope, name, period, limit)

    def clear_budget(self, scope: str, name: str, period: str | None) -> int:
        with self.memory.write() as db:
            if period:
                cur = db.execute("DELETE FROM budgets WHERE scope = ? AND name = ? AND period = ?", (scope, name, period))
            else:
                cur = db.execute("DELETE FROM budgets WHERE scope = ? AND name = ?", (scope, name))
        return cur.rowcount

    # -- reading ---------------------------------------------------------------------------------------

    def standings(self, charge: Charge) -> list[Standing]:
        return self._standings(self.db, charge)

    def _standings(self, db: sqlite3.Connection, charge: Charge) -> list[Standing]:
        """Every budget that bounds this charge, and the credit balance once any credit was granted."""
        rows = db.execute("SELECT * FROM budgets").fetchall()
        configured = [Budget(r["scope"], r["name"], r["period"], r["limit_micro"]) for r in rows]
        out = []
        now = self._moment()
        for budget in [*applicable(configured, charge.skill, charge.pack, charge.token), *charge.budgets]:
            where, args = _scope(budget)
            start = period_start(budget.period, now)
            since, since_args = ("AND ts >= ?", [iso(start)]) if start else ("", [])
            spent = db.execute(f"SELECT -COALESCE(SUM(amount), 0) FROM ledger WHERE kind IN ('debit', 'refund') "
                               f"AND {where} {since}", [*args, *since_args]).fetchone()[0]
            held = db.execute(f"SELECT COALESCE(SUM(reserved), 0) FROM ledger AS h WHERE kind = 'hold' AND {where} "
                              f"AND {_OPEN}", args).fetchone()[0]
            out.append(Standing(budget, budget.limit, spent, held))
        if db.execute("SELECT 1 FROM ledger WHERE kind IN ('grant', 'adjust') LIMIT 1").fetchone():
            balance = db.execute("SELECT balance FROM ledger_balance").fetchone()[0]
            held = db.execute(f"SELECT COALESCE(SUM(reserved), 0) FROM ledger AS h WHERE kind = 'hold' AND {_OPEN}"
                              ).fetchone()[0]
            out.append(Standing(None, balance, 0, held))
        return out

    def balance(self) -> int:
        return self.db.execute("SELECT balance FROM ledger_balance").fetchone()[0]

    def held(self) -> int:
        return self.db.execute(f"SELECT COALESCE(SUM(reserved), 0) FROM ledger AS h WHERE kind = 'hold' AND {_OPEN}"
                               ).fetchone()[0]

    def entry(self, ident: str) -> dict[str, Any]:
        row = self.db.execute("SELECT * FROM ledger WHERE id = ?", (ident,)).fetchone()
        return _row(row)

    def entries(self, since: str | None = None, kinds: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        where, args = ["1"], []
        if since:
            where.append("ts >= ?")
            args.append(since)
        if kinds:
            where.append(f"kind IN ({', '.join('?' * len(kinds))})")
            args.extend(kinds)
        rows = self.db.execute(f"SELECT * FROM ledger WHERE {' AND '.join(where)} ORDER BY seq", args).fetchall()
        return [_row(r) for r in rows]

    def summary(self, days: int = 14, top: int = 5) -> dict[str, Any]:
        """Balance, spend this day/week/month, top skills and models this month, spend per day."""
        db, now = self.db, self._moment()
        spend = {}
        for period in ("day", "week", "month"):
            start = iso(period_start(period, now))  # type: ignore[arg-type]
            spend[period] = db.execute("SELECT -COALESCE(SUM(amount), 0) FROM ledger WHERE kind IN ('debit', "
                                       "'refund') AND ts >= ?", (start,)).fetchone()[0]
        month = iso(period_start("month", now))  # type: ignore[arg-type]

        def top_by(column: str) -> list[dict[str, Any]]:
            rows = db.execute(
                f"SELECT COALESCE({column}, '-') AS name, -SUM(amount) AS spent, SUM(kind = 'debit') AS calls, "
                "SUM(prompt_tokens) AS prompt_tokens, SUM(completion_tokens) AS completion_tokens FROM ledger "
                f"WHERE kind IN ('debit', 'refund') AND ts >= ? GROUP BY {column} ORDER BY spent DESC, calls DESC "
                "LIMIT ?", (month, top)).fetchall()
            return [dict(r) | {"spent_credits": format_amount(r["spent"])} for r in rows]

        first = (now - timedelta(days=days - 1)).strftime("%Y-%m-%d")
        per_day = {r[0]: r[1] for r in db.execute(
            "SELECT day, SUM(spent) FROM ledger_spend_daily WHERE day >= ? GROUP BY day", (first,))}
        daily = [{"day": d, "spent": per_day.get(d, 0), "spent_credits": format_amount(per_day.get(d, 0))}
                 for d in ((now - timedelta(days=i)).strftime("%Y-%m-%d") for i in range(days - 1, -1, -1))]
        granted = db.execute("SELECT 1 FROM ledger WHERE kind IN ('grant', 'adjust') LIMIT 1").fetchone() is not None
        balance, held = self.balance(), self.held()
        return {
            "balance": balance, "balance_credits": format_amount(balance), "granted": granted,
            "held": held, "held_credits": format_amount(held),
            "available": balance - held, "available_credits": format_amount(balance - held),
            "spend": spend, "spend_credits": {k: format_amount(v) for k, v in spend.items()},
            "top_skills": top_by("skill"), "top_models": top_by("model"), "daily": daily,
            "budgets": [s_describe(s) for s in self._all_standings()],
        }

    def spend_by(self, column: str) -> list[dict[str, Any]]:
        """All-time spend (micro-credits) and calls per value of `column` (skill, pack, model or token)."""
        if column not in ("skill", "pack", "model", "token"):
            raise UsageError(f"cannot group the ledger by {column!r}")
        rows = self.db.execute(f"SELECT {column}, -COALESCE(SUM(amount), 0) AS spent, SUM(kind = 'debit') AS calls "
                               f"FROM ledger WHERE kind IN ('debit', 'refund') AND {column} IS NOT NULL "
                               f"GROUP BY {column}").fetchall()
        return [dict(r) for r in rows]

    def _all_standings(self) -> list[Standing]:
        """Every configured budget with its standing (for `dos budget list` and `dos credits`)."""
        out = []
        for budget in self.budgets():
            charge = Charge(budget.name if budget.scope == "skill" else None,
                            budget.name if budget.scope == "pack" else None,
                            token=budget.name if budget.scope == "token" else None)
            out += [s for s in self._standings(self.db, charge) if s.budget == budget]
        return out

    def budget_list(self) -> list[dict[str, Any]]:
        return [s_describe(s) for s in self._all_standings()]


def s_describe(standing: Standing) -> dict[str, Any]:
    base = standing.budget.describe() if standing.budget else {"scope": "balance"}
    return base | {"spent": format_amount(standing.spent), "held": format_amount(standing.held),
                   "left": format_amount(standing.left), "left_micro": standing.left}


def _scope(budget: Budget) -> tuple[str, list[Any]]:
    return _SCOPE_SQL[budget.scope], ([] if budget.scope == "all" else [budget.name])


def _row(row: sqlite3.Row | None) -> dict[str, Any]:
    if row is None:
        raise StorageError("ledger entry not found")
    out = {k: row[k] for k in row.keys() if k not in ("seq", "pid", "prev_hash", "hash")}
    out["credits"] = format_amount(row["amount"], sign=True)
    if row["reserved"]:
        out["reserved_credits"] = format_amount(row["reserved"])
    return out
