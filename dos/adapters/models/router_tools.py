"""What `dos models` and `dos stats` need: the catalog with reachability, one tiny test call, and the route
events of the memory log. Only `test` imports LiteLLM. (`dos route explain` is dos.core.routing.policy.explain_turn.)"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from dos.adapters.models.catalog import CatalogSource, probe_reachable, public_params
from dos.core.routing.stats import call_from_response, call_from_route, summarize
from dos.core.routing.policy import RouteRequest, decide, require


class RouterTools:
    def __init__(self, catalog: CatalogSource, memory_path: Any, router_settings: Any):
        self.catalog, self.memory_path = catalog, memory_path
        self.router_settings = router_settings

    def list_models(self) -> list[dict[str, Any]]:
        cat = self.catalog.catalog
        probed = probe_reachable([e for e in cat.entries if e.name not in cat.reachable])
        rows = []
        seen: set[str] = set()
        for entry in cat.entries:
            if entry.name in seen:
                continue
            seen.add(entry.name)
            reachable = cat.reachable.get(entry.name, probed.get(entry.name))
            how = {"embedded": "model file present" if reachable else "model file missing",
                   "localhost": "answered the probe", "env": "key in the environment (not called)",
                   }.get(entry.source, "api_base accepts connections" if entry.name in probed else "not probed")
            if entry.source == "config" and entry.name in probed and not probed[entry.name]:
                how = "api_base refuses connections"
            rows.append(entry.describe() | public_params(entry) | {"reachable": reachable, "checked": how})
        return rows

    def providers(self) -> list[str]:
        return list(self.catalog.catalog.providers)

    def test(self, name: str, max_tokens: int = 5) -> dict[str, Any]:
        """One tiny call to exactly this model (no fallback), not recorded in memory."""
        from dos.adapters.models.litellm_router import LiteLLMRouteBinder

        entry = next((e for e in self.catalog.entries() if e.name == name), None) or self.catalog.adhoc(name)
        decision = require(decide([entry], RouteRequest(pin=name)))
        bound = LiteLLMRouteBinder(self.router_settings | {"num_retries": 0}).bind(decision)
        started = time.monotonic()
        parts, usage = [], None
        for chunk in bound.stream(name, [{"role": "user", "content": "Say hello."}], max_tokens=max_tokens,
                                  temperature=0.0):
            parts.append(chunk.text)
            usage = chunk.usage or usage
        return {"name": name, "ok": True, "latency_s": round(time.monotonic() - started, 3), "text": "".join(parts),
                "completion_tokens": usage.completion_tokens if usage else None}

    def stats(self, since_s: float) -> dict[str, Any]:
        cutoff = (datetime.now(timezone.utc) - timedelta(seconds=since_s)).isoformat(timespec="milliseconds")
        cutoff = cutoff.replace("+00:00", "Z")
        calls = []
        if self.memory_path.exists():
            import sqlite3

            db = sqlite3.connect(f"file:{self.memory_path}?mode=ro", uri=True)
            try:
                rows = db.execute(
                    "SELECT kind, skill, model, data FROM events e WHERE ts >= ? AND (kind = 'route' OR "
                    "(kind = 'response' AND NOT EXISTS (SELECT 1 FROM events r WHERE r.turn_id = e.turn_id "
                    "AND r.kind = 'route'))) ORDER BY seq",
                    (cutoff,),
                ).fetchall()
            except sqlite3.Error:
                rows = []
            finally:
                db.close()
            for kind, skill, model, data in rows:
                try:
                    parsed = json.loads(data or "{}")
                except ValueError:
                    continue
                if not parsed:  # purged
                    continue
                maker = call_from_route if kind == "route" else call_from_response
                calls.append(maker(parsed, skill, model))
        return summarize(calls) | {"since": cutoff}

