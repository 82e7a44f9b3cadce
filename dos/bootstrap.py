"""The composition root: the one place that wires adapters into the core's use cases."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dos.adapters.files.config_file import ConfigFile
from dos.adapters.files.paths import Paths, builtin_dir, project_dir, resolve_paths
from dos.adapters.files.private import secure_home
from dos.adapters.skills.fs_skills import FolderSkills
from dos.adapters.store.sqlite_memory import SqliteMemory
from dos.core.domain import Skill, TurnRequest
from dos.core.turn.hooks import Conversation
from dos.core.turn.disclosure import ASSISTANT, assistant, names_no_skill
from dos.core.turn.runner import TurnRunner, find_skill, prompt_of

if TYPE_CHECKING:
    from dos.adapters.store.memory_io import MemoryTools
    from dos.adapters.store.sqlite_ledger import SqliteLedger
    from dos.core.routing.ledger import Credits, Spending


class SystemClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


@dataclass
class Dos:
    """Everything a command needs, built on first use so a command pays only for what it touches."""

    paths: Paths
    database: SqliteMemory | None = None  # a memory database to share (a chat's Dos rebuilt after a file changed)

    def reloaded(self) -> Dos:
        """A Dos that reads skills, packs, hooks and settings afresh, on the same memory database (`dos chat`
        after one of those files changed)."""
        return Dos(self.paths, self.memory)

    @cached_property
    def skills(self) -> FolderSkills:
        """Skill sources in precedence order: project, user, enabled packs, built-in packs."""
        from dos.adapters.files.index_cache import IndexCache
        from dos.adapters.skills.packs import PackStore

        cache = IndexCache(self.paths.state / "cache" / "skill-index.json")
        packs = PackStore(self.paths.user_packs, builtin_dir("packs"), self.paths.config / "packs.json", cache)
        return FolderSkills([("project", project_dir("skills")), ("user", self.paths.user_skills)], packs, cache,
                            trust=self.trust, local_model=self._local_model, notice=self._say_trust_notice,
                            warn=_stderr_notice)

    def check_skills(self, paths: list[Path]) -> list[tuple[str, list[str], list[str]]]:
        """`dos skills validate` (dos.adapters.skills.skill_check): (what, errors, warnings) for each skill or pack
        in `paths`, or for every skill if none."""
        from dos.adapters.skills.skill_check import check_paths

        return check_paths(paths, self.skills)

    def _local_model(self, name: str) -> bool:
        """Whether the catalog keeps `name` on this machine (a project skill that names another needs trust). Read
        only when a project skill names a model; a catalog that cannot be read vouches for none."""
        from dos.core.errors import DosError

        try:
            entry = self.catalog.catalog.get(name) or self.catalog.adhoc(name)
        except DosError:
            return False
        return entry.sovereignty == "local"

    def _say_trust_notice(self) -> None:
        """The one line a command says about this folder's untrusted files, if not said yet."""
        from dos.context import cwd

        if notice := self.trust.notice(cwd()):
            _stderr_notice(notice)

    @cached_property
    def sync(self) -> Any:
        """`dos sync` (dos.adapters.sync.sync_targets): copies of the skills in other harnesses' folders."""
        from dos.adapters.sync.sync_targets import SyncTargets

        return SyncTargets(self.skills, self.paths.config, self.paths.user_skills)

    @cached_property
    def config_file(self) -> ConfigFile:
        return ConfigFile(self.paths.config_file)

    @cached_property
    def settings(self) -> dict[str, Any]:
        """The user's settings; InvalidConfig (one line, file and line) if config.yaml is broken."""
        return self.config_file.load()

    @cached_property
    def memory(self) -> SqliteMemory:
        return self.database or SqliteMemory(self.paths.memory_db)  # opened on its first query

    @cached_property
    def memory_tools(self) -> MemoryTools:
        """`dos memory verify | stats | export | import` on the memory database (dos.adapters.store.memory_io)."""
        from dos.adapters.store.memory_io import MemoryTools  # here, not at the top: only these commands need it

        return MemoryTools(self.memory)

    @cached_property
    def hooks(self) -> Any:
        """Lifecycle hooks (dos.core.turn.hooks): hooks.yaml, ./.dos/hooks.yaml, packs, ./.claude/settings.json.
        `DOS_HOOKS=0` turns every hook off."""
        import os

        from dos.core.turn.hooks import Hooks

        if os.environ.get("DOS_HOOKS", "").strip().lower() in ("0", "off", "false", "no"):
            return Hooks(None)
        from dos.adapters.hooks.command_hooks import HookProcessRunner

        cwd = str(self.hook_config.project)
        load = self._trust_noticed(self.hook_config.load)
        return Hooks(HookProcessRunner(load, cwd=cwd), notify=_stderr_notice, cwd=cwd)

    @cached_property
    def hook_config(self) -> Any:
        """Where hooks are declared (dos.adapters.hooks.hook_config): for `dos hooks list`."""
        from dos.adapters.hooks.hook_config import HookConfig

        project = project_dir("hooks").parent.parent  # the folder DOS runs in (the client's, under the kernel)
        return HookConfig(self.paths.config, project, lambda: self.skills.packs.enabled(), builtin_dir("hooks"),
                          trust=self.trust)

    @cached_property
    def permission_config(self) -> Any:
        """Where tool permission rules are declared (dos.adapters.project.permissions): `load()` gives the
        Permissions in force (dos.core.permissions) and the problems of their files."""
        from dos.adapters.project.permissions import PermissionConfig

        return PermissionConfig(self.paths.config, project_dir("settings").parent.parent, trust=self.trust)

    @cached_property
    def trust(self) -> Any:
        """Which project folders' hooks, MCP servers and skills may be used (dos.adapters.project.trust), read at each
        check."""
        from dos.adapters.project.trust import ProjectTrust

        return ProjectTrust(self.paths.config, builtin_dir("hooks"), skills=lambda folder: self.skills.needing_trust(folder))

    def _trust_noticed(self, load: Any) -> Any:
        """`load`, plus the one line a command says about the project's untrusted files (the first load says it)."""
        from dos.context import cwd

        def loaded() -> tuple[list[Any], list[str]]:
            found, problems = load()
            notice = self.trust.notice(cwd())
            return found, problems + ([notice] if notice else [])

        return loaded

    @cached_property
    def catalog(self) -> Any:
        """The model catalog (models.yaml, embedded, localhost, cloud keys); config.yaml's `prefer` under it."""
        from dos.adapters.models.catalog import CatalogSource

        return CatalogSource(self.paths.config, self.paths.state, extra_route=self._config_route)

    def _config_route(self) -> dict[str, Any]:
        """config.yaml's routing settings that differ from the defaults: `prefer`, and `default_model`
        (tried first for skills that name no model of their own)."""
        from dos.core.config import defaults

        changed = {k: v for k, v in self.settings.items() if v != defaults()[k]}
        route = {"prefer": changed.get("prefer"), "model": changed.get("default_model")}
        return {k: v for k, v in route.items() if v is not None}

    def routing(self, prefer: str | None = None, sovereignty: str | None = None, notice: Any = None) -> Any:
        """The routing: catalog + pure policy (dos.core.routing.policy) + LiteLLM's Router (imported only on a call)."""
        from dos.adapters.models.litellm_router import LiteLLMRouteBinder
        from dos.core.routing.policy import Routing

        binder = LiteLLMRouteBinder(lambda: self.catalog.catalog.router)
        command_line = {"prefer": prefer, "sovereignty": sovereignty}
        return Routing(self.catalog, binder, SystemClock(), command_line, notice or _stderr_notice,
                       spending=self.spending)

    @cached_property
    def ledger(self) -> SqliteLedger:
        """The credit ledger (dos.adapters.store.sqlite_ledger) in the memory database."""
        from dos.adapters.store.sqlite_ledger import SqliteLedger

        return SqliteLedger(self.memory)

    @cached_property
    def credits(self) -> Credits:
        """`dos credits grant|refund|adjust`, `dos budget set|clear` (dos.core.routing.ledger.Credits) on the ledger."""
        from dos.core.routing.ledger import Credits

        return Credits(self.ledger)

    @cached_property
    def spending(self) -> Spending:
        """Budgets for routed calls (dos.core.routing.ledger): the ledger, each pack manifest's `budget:`, and the models'
        own tokenizers where LiteLLM ships one (imported only when such a model is about to be called)."""
        from dos.adapters.models.litellm_tokens import count_tokens

        return self._spending(count_tokens)

    @cached_property
    def route_budgets(self) -> Spending:
        """Budgets for explaining a route (`dos route explain`, the chat's /route, /model and toolbar): as
        `spending`, with no tokenizer: an explanation calls no model, so it never imports LiteLLM, and bounds each
        prompt by its UTF-8 bytes (a tokenizer never counts more)."""
        return self._spending()

    def _spending(self, counter: Any = None) -> Spending:
        from dos.core.routing.ledger import Spending

        def pack_budget(name: str) -> Any:
            entry = next((e for e in self.skills.packs.entries() if e.name == name and e.pack), None)
            return entry.pack.budget if entry else None

        return Spending(self.ledger, pack_budget, counter)

    @cached_property
    def tokens(self) -> Any:
        """`dos serve`'s bearer tokens (dos.adapters.store.sqlite_tokens) in the memory database."""
        from dos.adapters.store.sqlite_tokens import SqliteTokens

        return SqliteTokens(self.memory)

    def gateway(self) -> Any:
        """`dos serve`'s use case (dos.core.serve.gateway): tokens, skills, the catalog, routed turns."""
        from dos.core.serve.gateway import Gateway

        return Gateway(self.tokens, self.skills, self.catalog, lambda sovereignty: self.turn_runner(sovereignty=sovereignty))

    def router_tools(self) -> Any:
        """`dos models`, `dos stats` (dos.adapters.models.router_tools); no LiteLLM until a test call."""
        from dos.adapters.models.router_tools import RouterTools

        return RouterTools(self.catalog, self.paths.memory_db, self.catalog.catalog.router)

    def turn_runner(self, prefer: str | None = None, sovereignty: str | None = None, approver: Any = None) -> TurnRunner:
        """`approver`: who answers a tool call that asks first (the `Approver` port; `dos run` on a terminal passes
        its prompt); None: nobody, such a call is refused with a line naming the --allow rule (dos serve, scripts)."""
        return TurnRunner(self.skills, self.routing(prefer, sovereignty), self.memory, SystemClock(), hooks=self.hooks,
                          tools=self.turn_tools(), permissions=self.permission_config, approver=approver)

    def run_request(self, skill: str, words: Sequence[str], piped: str, resume: bool = False,
                    **given: Any) -> tuple[TurnRequest, Skill | None]:
        """`dos run SKILL WORDS...` with `piped` on its stdin, as a turn's request (in the CLI's process or in the
        warm kernel): its prompt (dos.core.turn.runner.prompt_of); a quoted prompt in place of SKILL runs the plain
        assistant with the skill catalog (dos.core.turn.disclosure); the settings turn recall on or off and give its
        budget; `resume` continues the last conversation of its terminal or folder. `given`: the request's other
        fields. Returns the request, and the skill it runs under when that is not one found by its name."""
        no_skill = names_no_skill(skill)
        text = prompt_of([skill, *words] if no_skill else words, piped)
        request = TurnRequest(skill=ASSISTANT if no_skill else skill, text=text, skill_catalog=no_skill, **given)
        request = replace(request, session_id=self.memory.last_session(request.scope or "") if resume else None,
                          recall=request.recall and self.settings["recall"],
                          recall_tokens=self.settings["recall_tokens"])
        return request, assistant() if no_skill else None

    def chat_runner(self, conversation: Conversation, prefer: str | None = None,
                    sovereignty: str | None = None) -> TurnRunner:
        """The turns of `dos chat` (in its process or in the warm kernel): the plain assistant, `chat`
        (dos.core.turn.disclosure), unless a skill of that name exists, and SessionStart/SessionEnd once per
        `conversation`, not per turn."""
        return TurnRunner(self.skills, self.routing(prefer, sovereignty), self.memory, SystemClock(), hooks=self.hooks,
                          tools=self.turn_tools(), builtins=(assistant(),), conversation=conversation,
                          permissions=self.permission_config)  # no approver: a chat turn never prompts

    def chat_skill(self, name: str) -> Skill:
        """The skill a chat turn named `name` runs under (as `chat_runner` finds it)."""
        return find_skill(self.skills, name, (assistant(),))


    @cached_property
    def mcp_config(self) -> Any:
        """Where MCP servers are declared (dos.adapters.mcp.mcp_config); reads files only, never imports `mcp`."""
        from dos.adapters.mcp.mcp_config import McpConfig
        from dos.context import cwd

        return McpConfig(self.paths.config, cwd(), lambda: self.skills.packs.enabled(), trust=self.trust)

    def tool_host(self) -> Any:
        """The MCP servers' tools (dos.adapters.mcp.mcp_tools); the SDK is imported when a server is first used."""
        from dos.adapters.mcp.mcp_tools import McpTools

        return McpTools(self._trust_noticed(self.mcp_config.load), notify=_stderr_notice)

    def turn_tools(self) -> Any:
        """A turn's tools: DOS's built-in ones (dos.adapters.tools; offered only when the request names `builtin`)
        and the MCP servers'."""
        from dos.adapters.tools.builtin import BuiltinTools
        from dos.adapters.tools.combined import CombinedTools

        return CombinedTools(BuiltinTools(), self.tool_host())

    def mcp_server(self) -> Any:
        """`dos mcp serve` (dos.adapters.mcp.mcp_server): skills as MCP prompts, run_skill as a full DOS turn."""
        from dos import __version__
        from dos.adapters.mcp.mcp_server import DosMcpServer

        return DosMcpServer(self.skills, lambda request: self.turn_runner().run(request), __version__)

    def embedded_model(self, load: bool) -> dict[str, Any]:
        """The embedded model's file and, if `load`, whether llama.cpp loads it and decodes a token: in a child
        process, so a crash is a finding, not doctor's end. A crash is recorded (turns then skip the model with
        one line) and a good probe clears the record."""
        from dos.adapters.models import embedded, embedded_health

        path = embedded.model_file("smollm2")
        report: dict[str, Any] = {"file": str(path) if path else None, "hint": embedded.install_hint("smollm2")}
        if path and load:
            probe = embedded_health.probe_in_child("smollm2")
            report |= probe
            if "signal" in probe:
                embedded_health.record_crash(self.paths.state, "smollm2", probe["signal"], "decoding (dos doctor)")
            elif probe["ok"]:
                embedded_health.clear_crash(self.paths.state)
        return report


def _stderr_notice(message: str) -> None:
    import sys

    sys.stderr.write(f"dos: {message}\n")
    sys.stderr.flush()


def keep_tools_connected() -> Any:
    """For a long-lived process (`dos serve`): MCP servers stay connected across turns; returns what closes them."""
    from dos.adapters.mcp import mcp_tools

    mcp_tools.keep_connected()
    return mcp_tools.close_connected


def warm_up() -> None:
    """Import LiteLLM, load the embedded model and send it one token through the router (the kernel and the
    chat REPL do this once, at start): LiteLLM's Router does its own lazy set-up on its first call, 2.5 s of a
    cold first token. Pinned to the embedded model, so it never reaches a paid one; nothing is recorded."""
    from dos.adapters.models import local_model
    from dos.adapters.models.embedded_health import crash_of
    from dos.adapters.models.litellm_setup import litellm_module
    from dos.core.domain import DEFAULT_MODEL, Skill, TurnRequest

    litellm_module()
    if crash_of(resolve_paths().state, "smollm2"):  # it crashed its process here: turns will say so, not warm-up
        return
    local_model.load("smollm2")
    skill = Skill("warm-up", "", "You answer briefly.", "", "builtin")
    routed = build().routing(notice=lambda _: None).plan(skill, TurnRequest(skill="warm-up", text="hi",
                                                                            model=DEFAULT_MODEL, log=False))
    messages = [{"role": "system", "content": skill.body}, {"role": "user", "content": "Say hello."}]
    for _ in routed.bound.stream(DEFAULT_MODEL, messages, max_tokens=1, temperature=0.0):  # no ledger, no event
        pass


def build() -> Dos:
    paths = resolve_paths()
    secure_home([paths.config, paths.data, paths.state], _stderr_notice)  # once a process: a few stat calls
    return Dos(paths)
