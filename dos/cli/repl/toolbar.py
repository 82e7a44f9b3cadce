"""The bottom toolbar of `dos chat`: model, sovereignty class, skill, session tokens and cost, credit balance.

`balance` is the hook for the ledger (not built yet): a callable returning a short text such as "$4.20 left",
or None to show nothing. By default it asks the Dos object for a `ledger` with a `balance()` and shows nothing
when there is none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dos.cli.repl.session import ChatSession

Balance = Callable[[ChatSession], "str | None"]


def ledger_balance(session: ChatSession) -> str | None:
    """The credit balance, once a ledger exists (`Dos.ledger.balance()`); None until then."""
    ledger = getattr(session.dos, "ledger", None)
    balance = getattr(ledger, "balance", None)
    if not callable(balance):
        return None
    try:
        value = balance()
    except Exception:  # noqa: BLE001 - a toolbar never fails
        return None
    return f"${value:.2f}" if isinstance(value, (int, float)) else (str(value) if value is not None else None)


class Toolbar:
    def __init__(self, session: ChatSession, balance: Balance = ledger_balance):
        self.session = session
        self.balance = balance
        self.hint = ""  # a transient line, e.g. "Ctrl-C again to exit"
        self.routed: str | None = None  # the model the next turn would take, once known
        self.sovereignty: dict[str, str | None] = {}

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
        if (credit := self.balance(s)) is not None:
            parts.append(f"credit {credit}")
        if not s.warm.done:
            parts.append("warming up…")
        if self.hint:
            parts.append(self.hint)
        return "  │  ".join(parts)
