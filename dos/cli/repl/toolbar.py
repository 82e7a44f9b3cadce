"""The bottom toolbar of `dos chat`: model, sovereignty class, skill, session tokens and cost, credit balance.

`balance` is the hook for the credit ledger: a callable (session -> short text or None), by default the
available credits from `Dos.ledger.summary()` once any credit was granted; refreshed once per turn.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dos.cli.repl.session import ChatSession

Balance = Callable[[ChatSession], "str | None"]


def ledger_balance(session: ChatSession) -> str | None:
    """The credits available, once any were granted (`dos credits grant`); None until then. Call it on the main
    thread (the ledger shares the memory database's connection), once per turn, not per redraw."""
    ledger = getattr(session.dos, "ledger", None)
    summary = getattr(ledger, "summary", None)
    if not callable(summary) or not session.dos.paths.memory_db.exists():
        return None
    try:
        info = summary(days=1, top=1)
    except Exception:  # noqa: BLE001 - a toolbar never fails
        return None
    return f"{info.get('available_credits')}" if info.get("granted") else None


class Toolbar:
    def __init__(self, session: ChatSession, balance: Balance = ledger_balance):
        self.session = session
        self.balance = balance
        self.hint = ""  # a transient line, e.g. "Ctrl-C again to exit"
        self.routed: str | None = None  # the model the next turn would take, once known
        self.sovereignty: dict[str, str | None] = {}
        self.credit: str | None = None

    def refresh_credit(self) -> None:
        """The credit balance (main thread; after each turn)."""
        self.credit = self.balance(self.session)

    def preview(self) -> None:
        """Work out the next turn's model and its sovereignty class (off the main thread: reads the catalog)."""
        try:
            _, decision = self.session.route()
            self.routed = decision.names[0] if decision.chain else None
        except Exception:  # noqa: BLE001
            self.routed = None
        model = self.model
        if model and model not in self.sovereignty:
            self.sovereignty[model] = self.session.sovereignty_of(model)

    @property
    def model(self) -> str | None:
        s = self.session
        return s.model or s.last_model or self.routed

    def __call__(self) -> Any:
        s = self.session
        model = self.model or "…"
        sov = self.sovereignty.get(model) if model else None
        parts = [f" {model}" + (f" [{sov}]" if sov else ""), f"skill {s.skill}" + (f" · pack {s.pack}" if s.pack else "")]
        t = s.totals
        parts.append(f"{t.tokens} tokens · ${t.cost:.4f}")
        if self.credit is not None:
            parts.append(f"credits {self.credit}")
        if not s.warm.done:
            parts.append("warming up…")
        if self.hint:
            parts.append(self.hint)
        return "  │  ".join(parts)
