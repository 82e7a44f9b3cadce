"""The bottom toolbar of `dos chat`: model, sovereignty class, skill, session tokens and cost, credit balance.

`balance` is the hook for the credit ledger: a callable (session -> short text or None), by default the
available credits from `Dos.ledger.summary()` once any credit was granted; refreshed once per turn. The model
shown is the route `/route` explains, budgets included, worked out once per turn on the main thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dos.cli.repl.session import ChatSession

Balance = Callable[[ChatSession], "str | None"]


def ledger_balance(session: ChatSession) -> str | None:
    """The credits available, once any were granted (`dos credits grant`); None until then. Call it on the main
    thread (the ledger shares the memory database's connection), once per turn, not per redraw."""
    if not session.dos.paths.memory_db.exists():
        return None
    try:
        info = session.dos.ledger.summary(days=1, top=1)
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
        self.due = False  # the catalog is read: the next redraw works out the route

    def refresh_credit(self) -> None:
        """The credit balance (main thread; after each turn)."""
        self.credit = self.balance(self.session)

    def preview(self) -> None:
        """Read the skills, the catalog and the route settings off the main thread (the catalog may probe local
        servers) and import what the budgets need, then leave the route to the next redraw: its budgets read the
        ledger, on the main thread's connection."""
        try:
            self.session.skill_object()
            self.session.dos.catalog.route_settings()
            self.session.dos.route_budgets  # noqa: B018 - built (imported) here; it opens no database
        except Exception:  # noqa: BLE001 - the route below says nothing then, and the turn reports it
            pass
        self.due = True

    def explain(self) -> None:
        """The next turn's model, budgets included (`ChatSession.route`, as /route and `dos route explain`), and
        its sovereignty class (main thread, once per turn)."""
        self.due = False
        try:
            _, decision = self.session.route()
            self.routed = decision.names[0] if decision.chain else None
        except Exception:  # noqa: BLE001 - a toolbar never fails; no model left shows as none
            self.routed = None
        model = self.model
        if model and model not in self.sovereignty:
            self.sovereignty[model] = self.session.sovereignty_of(model)

    @property
    def model(self) -> str | None:
        s = self.session
        return s.model or s.last_model or self.routed

    def __call__(self) -> Any:
        if self.due:
            self.explain()
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
