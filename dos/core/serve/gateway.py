"""The gateway's use case (`dos serve`): authenticate a request's token, resolve the model it names (a catalog
model, or `skill:NAME`), and run it as a DOS turn under the token's policy: its sovereignty narrows the route, its
skills bound what it may call, its name is charged in the ledger and recorded in memory."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dos.core.domain import Skill, Token, TurnRequest, TurnResult
from dos.core.errors import DosError, TokenRefused, UnknownModel, UnknownSkill
from dos.core.ports import SkillSource, TokenStore
from dos.core.routing.policy import ModelCatalog, explain
from dos.core.serve.tokens import SKILL_MODEL, digest, skill_of
from dos.core.turn.runner import TurnRunner

# what a catalog model called directly runs under: no system prompt of DOS's own, the caller's messages as given
DIRECT = Skill("direct", "A catalog model called directly through dos serve.", "", "", "gateway")


@dataclass(frozen=True)
class ChatCall:
    """One chat completion request, already checked: the conversation as given, its last user text apart."""

    model: str
    conversation: tuple[Mapping[str, Any], ...]
    text: str
    max_tokens: int | None = None
    temperature: float | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    session_id: str | None = None
    turn_id: str | None = None


class Gateway:
    """Tokens, skills and the model catalog in; turns out. `runner(sovereignty)` builds a TurnRunner whose
    route is narrowed to those sovereignty classes (None: no narrowing)."""

    def __init__(self, tokens: TokenStore, skills: SkillSource, catalog: ModelCatalog,
                 runner: Callable[[str | None], TurnRunner]):
        self.tokens, self.skills, self.catalog, self.runner = tokens, skills, catalog, runner

    def model_names(self) -> list[str]:
        return list(dict.fromkeys(e.name for e in self.catalog.entries()))

    def authenticate(self, secret: str | None) -> Token:
        if not secret:
            raise TokenRefused("no bearer token: send `Authorization: Bearer <token>` (create one with "
                               "`dos tokens create NAME`)")
        token = self.tokens.find(digest(secret))
        if token is None:
            raise TokenRefused("unknown token (see `dos tokens list`)")
        if token.revoked:
            raise TokenRefused(f"token '{token.name}' was revoked on {token.revoked}")
        return token

    def models(self, token: Token) -> list[dict[str, str]]:
        """What the token may call: catalog models (unless it is limited to skills), then `skill:NAME`s; each
        only if a route is left for it once the token's sovereignty (and models.yaml's `route:`) narrow it, so
        a `local`-only token sees no cloud model."""
        narrowed = {"sovereignty": token.route()}
        names = self.model_names() if token.allows_models else []
        usable = set(explain(DIRECT, self.catalog, narrowed).names) if names else set()
        out = [{"id": name, "owned_by": "dos"} for name in names if name in usable]
        for skill in sorted(self.skills.list(), key=lambda s: s.name):
            if skill.error or skill.shadowed_by or not token.allows_skill(skill.name):
                continue
            try:
                if not explain(self.skills.get(skill.name), self.catalog, narrowed).chain:
                    continue
            except DosError:  # a skill that cannot load or route is not a model anyone may use
                continue
            out.append({"id": SKILL_MODEL + skill.name, "owned_by": "dos-skill"})
        return out

    def resolve(self, token: Token, model: str) -> tuple[Skill, str | None]:
        """The skill the request runs under, and the model it pins (None: the skill's route chooses)."""
        name = skill_of(model)
        if name is not None:
            if not token.allows_skill(name):
                raise TokenRefused(f"token '{token.name}' may not use skill '{name}' (it may use: "
                                   f"{', '.join(token.skills)})", forbidden=True)
            try:
                return self.skills.get(name), None
            except UnknownSkill as exc:
                raise UnknownModel(f"model '{model}': {exc.message}") from None
        if model not in self.model_names():
            raise UnknownModel(f"unknown model '{model}': GET /v1/models lists the catalog's models and "
                               f"{SKILL_MODEL}NAME for each skill")
        if not token.allows_models:
            raise TokenRefused(f"token '{token.name}' may use only skills ({', '.join(token.skills)}), "
                               f"as model '{SKILL_MODEL}NAME'", forbidden=True)
        return DIRECT, model

    def run(self, token: Token, call: ChatCall, on_text: Callable[[str], None] = lambda _: None) -> TurnResult:
        skill, pinned = self.resolve(token, call.model)
        request = TurnRequest(skill=skill.name, text=call.text, model=pinned, max_tokens=call.max_tokens,
                              temperature=call.temperature, session_id=call.session_id, recall=False,
                              conversation=call.conversation, options=call.options, client=token.name,
                              turn_id=call.turn_id)
        return self.runner(token.route()).run(request, on_text=on_text, skill=skill)
