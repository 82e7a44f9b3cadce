"""The model catalog: `models.yaml` (LiteLLM `model_list` shape plus DOS attributes) and what is found without
configuration: the embedded model, an Ollama or OpenAI-compatible server on localhost, cloud providers whose API
key is in the environment.

A model's sovereignty follows where its requests go: the host of its `api_base`, else of the base URL LiteLLM
reads from the environment for its provider (OLLAMA_API_BASE, OPENAI_BASE_URL, ...), else of the provider's own
endpoint. In-process (the embedded model) or a loopback host is `local`; the provider's own endpoint is that
provider's class (openai: us, mistral: eu, ...); any other host is `unknown`. A `sovereignty:` written in
models.yaml declares the class of the host that entry names (or its provider's own endpoint), never of a host the
environment substitutes. The router adapter checks the same again, on the api_base it hands LiteLLM.

No LiteLLM import here (`dos route explain` and `dos models list` must stay light): prices, context windows and
capabilities of known cloud models come from LiteLLM's bundled cost-map JSON, read as a file. API keys are never
read into an entry: LiteLLM finds them in the environment itself; only the provider's name is shown.

models.yaml:

    route:                 # constraints for every turn; skills and the command line can only narrow them
      sovereignty: [local, eu]
      prefer: local-first
    router: {num_retries: 1, timeout: 60, cooldown_time: 30, allowed_fails: 1}
    discover: {localhost: true, env: true}   # localhost may also be a list of base URLs
    model_list:
      - model_name: mistral-small
        litellm_params: {model: mistral/mistral-small-latest, api_key: os.environ/MISTRAL_API_KEY}
        sovereignty: eu                     # DOS attributes, here or under model_info:
        capabilities: [chat, tools]
        input_price: 0.1                    # USD per million tokens
        output_price: 0.3
        quality: 2
        tags: [work]
        context_window: 128000
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from dos.adapters.files.private import private_dir, replace_private
from dos.adapters.files.yaml_text import bad_value_line, key_lines, line_at
from dos.adapters.models import embedded
from dos.core.domain import DEFAULT_MODEL
from dos.core.errors import InvalidConfig, StorageError, UsageError
from dos.core.redact import redact
from dos.core.routing.policy import IN_PROCESS, LOCAL, ModelEntry, constraints_from, stays_local

PROBE_TIMEOUT_S = 0.25
PROBE_CACHE_S = 300
# the embedded model (its file is found by dos.adapters.models.embedded, without importing LiteLLM)
EMBEDDED = ModelEntry(
    name=DEFAULT_MODEL,
    params={"model": DEFAULT_MODEL},
    sovereignty="local",
    capabilities=frozenset({"chat"}),
    input_price=0.0,
    output_price=0.0,
    quality=1,
    context_window=4096,
    source="embedded",
    host=IN_PROCESS,
    host_from=IN_PROCESS,
)
LOCALHOST_SERVERS = (
    ("ollama", "http://127.0.0.1:11434"),
    ("llama.cpp", "http://127.0.0.1:8080/v1"),
    ("lm-studio", "http://127.0.0.1:1234/v1"),
    ("vllm", "http://127.0.0.1:8000/v1"),
)
# provider -> (env var(s) holding its key, [(litellm model, quality)]); their class: PROVIDER_SOVEREIGNTY
CLOUD = {
    "openai": (("OPENAI_API_KEY",), [("gpt-4o-mini", 3), ("gpt-4o", 4)]),
    "anthropic": (("ANTHROPIC_API_KEY",), [("claude-haiku-4-5", 3), ("claude-sonnet-4-5", 5)]),
    "gemini": (("GEMINI_API_KEY",), [("gemini/gemini-2.5-flash", 3), ("gemini/gemini-2.5-pro", 5)]),
    "mistral": (("MISTRAL_API_KEY",), [("mistral/mistral-small-latest", 2), ("mistral/mistral-large-latest", 4)]),
    "groq": (("GROQ_API_KEY",), [("groq/openai/gpt-oss-20b", 3)]),
    "openrouter": (("OPENROUTER_API_KEY",), [("openrouter/openai/gpt-4o-mini", 3)]),
    "deepseek": (("DEEPSEEK_API_KEY",), [("deepseek/deepseek-chat", 3)]),
}
# the class of a provider's own endpoint (only when the request goes there: see `classify`)
PROVIDER_SOVEREIGNTY = {
    "openai": "us", "text-completion-openai": "us", "anthropic": "us", "gemini": "us", "vertex_ai": "us",
    "groq": "us", "openrouter": "us", "mistral": "eu", "deepseek": "cn",
}
# provider -> (the environment variables LiteLLM 1.109 reads for its base URL, in its order; its default
# endpoint). Any other provider P: P_API_BASE, then P_BASE_URL, and no default known.
PROVIDER_BASES: dict[str, tuple[tuple[str, ...], str | None]] = {
    "openai": (("OPENAI_BASE_URL", "OPENAI_API_BASE"), "https://api.openai.com/v1"),
    "text-completion-openai": (("OPENAI_BASE_URL", "OPENAI_API_BASE"), "https://api.openai.com/v1"),
    "anthropic": (("ANTHROPIC_API_BASE", "ANTHROPIC_BASE_URL"), "https://api.anthropic.com"),
    "gemini": (("GEMINI_API_BASE",), "https://generativelanguage.googleapis.com"),
    "vertex_ai": (("VERTEXAI_API_BASE", "VERTEX_API_BASE"), "https://aiplatform.googleapis.com"),
    "mistral": (("MISTRAL_API_BASE",), "https://api.mistral.ai/v1"),
    "groq": (("GROQ_API_BASE",), "https://api.groq.com/openai/v1"),
    "openrouter": (("OPENROUTER_API_BASE",), "https://openrouter.ai/api/v1"),
    "deepseek": (("DEEPSEEK_API_BASE",), "https://api.deepseek.com"),
    "ollama": (("OLLAMA_API_BASE",), "http://localhost:11434"),
    "ollama_chat": (("OLLAMA_API_BASE",), "http://localhost:11434"),
    "xinference": (("XINFERENCE_API_BASE",), "http://127.0.0.1:9997/v1"),
}
ENTRY_KEYS = {"model_name", "litellm_params", "model_info", "sovereignty", "capabilities", "input_price",
              "output_price", "quality", "tags", "context_window", "latency_s"}
TOP_KEYS = {"model_list", "route", "router", "discover", "litellm_settings", "router_settings", "general_settings"}
ROUTER_KEYS = {"num_retries": int, "timeout": float, "cooldown_time": float, "allowed_fails": int}
ROUTER_DEFAULTS = {"num_retries": 1, "timeout": 60.0, "cooldown_time": 30.0, "allowed_fails": 1}


@dataclass
class Catalog:
    entries: list[ModelEntry]
    route: dict[str, Any] = field(default_factory=dict)  # checked constraints from models.yaml `route:`
    router: dict[str, Any] = field(default_factory=lambda: dict(ROUTER_DEFAULTS))
    reachable: dict[str, bool | None] = field(default_factory=dict)  # None: not probed (cloud: key present)
    providers: list[str] = field(default_factory=list)  # cloud providers found by their key (names only)

    def get(self, name: str) -> ModelEntry | None:
        return next((e for e in self.entries if e.name == name), None)


# -- the cost map, read as a file ------------------------------------------------------------------------

_cost_map: dict[str, Any] | None = None


def cost_map() -> dict[str, Any]:
    global _cost_map
    if _cost_map is None:
        _cost_map = {}
        spec = importlib.util.find_spec("litellm")  # finds the package without importing it
        for folder in (spec.submodule_search_locations or []) if spec else []:
            path = Path(folder) / "model_prices_and_context_window_backup.json"
            if path.is_file():
                try:
                    _cost_map = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    pass
                break
    return _cost_map


def known(model: str) -> dict[str, Any]:
    """LiteLLM's cost-map record of a model, trying the name with and without its provider prefix."""
    table = cost_map()
    for key in (model, model.split("/", 1)[-1], model.rsplit("/", 1)[-1]):
        if key in table and isinstance(table[key], dict):
            return table[key]
    return {}


def _enrich(entry: dict[str, Any], model: str) -> dict[str, Any]:
    """Fill price, context window and capabilities the user did not give from LiteLLM's cost map."""
    if all(entry.get(k) is not None for k in ("input_price", "output_price", "context_window", "capabilities")):
        return entry
    record = known(model)
    if not record:
        return entry
    out = dict(entry)
    if out.get("input_price") is None and record.get("input_cost_per_token") is not None:
        out["input_price"] = round(float(record["input_cost_per_token"]) * 1e6, 6)
    if out.get("output_price") is None and record.get("output_cost_per_token") is not None:
        out["output_price"] = round(float(record["output_cost_per_token"]) * 1e6, 6)
    if out.get("context_window") is None and record.get("max_input_tokens"):
        out["context_window"] = int(record["max_input_tokens"])
    if out.get("capabilities") is None:
        caps = {"chat"}
        for flag, cap in (("supports_function_calling", "tools"), ("supports_vision", "vision"),
                          ("supports_response_schema", "json")):
            if record.get(flag):
                caps.add(cap)
        if (out.get("context_window") or 0) >= 100_000:
            caps.add("long-context")
        out["capabilities"] = sorted(caps)
    return out


# -- models.yaml -----------------------------------------------------------------------------------------


def template() -> str:
    return (__doc__ or "").split("models.yaml:\n", 1)[1].replace("\n    ", "\n").strip() + "\n"


def _entry(raw: Any, path: Path, lines: dict[str, int], prefix: str, environ: Any) -> ModelEntry:
    """One `model_list` item; InvalidConfig names the line of the offending key (`prefix` is `model_list.N`)."""
    def at(key: str = "") -> str:
        return f"{path}:{line_at(lines, f'{prefix}.{key}' if key else prefix)}"

    if not isinstance(raw, dict):
        raise InvalidConfig(f"{at()}: each model_list item must be a mapping")
    unknown = sorted(map(str, set(raw) - ENTRY_KEYS))
    if unknown:
        raise InvalidConfig(f"{at(unknown[0])}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(ENTRY_KEYS))})")
    name, params = raw.get("model_name"), raw.get("litellm_params")
    if not isinstance(name, str) or not name.strip():
        raise InvalidConfig(f"{at('model_name')}: model_name is missing")
    if not isinstance(params, dict) or not isinstance(params.get("model"), str):
        raise InvalidConfig(f"{at('litellm_params.model')}: litellm_params.model is missing for {name}")
    info = raw.get("model_info")
    if info is not None and not isinstance(info, dict):
        raise InvalidConfig(f"{at('model_info')}: {name}: 'model_info' must be a mapping")
    attrs = dict(info or {})
    attrs.update({k: v for k, v in raw.items() if k not in ("model_name", "litellm_params", "model_info")})
    for key, value in attrs.items():  # each attribute alone, so the message names the line that holds it
        if problem := _attribute_problem(str(key), value):
            where = at(str(key)) if key in raw else at(f"model_info.{key}")
            raise InvalidConfig(f"{where}: {name}: {problem}")
    attrs = _enrich(attrs, params["model"])
    try:
        return _make(name, params, attrs, "config", environ)
    except (TypeError, ValueError) as exc:
        raise InvalidConfig(f"{at()}: {name}: {exc}") from None


def _attribute_problem(key: str, value: Any) -> str | None:
    """Why a DOS attribute of a model entry is unusable (None when it is fine or not a DOS attribute)."""
    if value is None:
        return None
    try:
        if key in ("input_price", "output_price"):
            _price(value, key)
        elif key in ("capabilities", "tags"):
            _names(value, key)
        elif key == "sovereignty" and not isinstance(value, str):
            return "'sovereignty' must be a name such as local, eu, us, cn"
        elif key in ("quality", "context_window") and (isinstance(value, bool) or int(value) != float(value)):
            raise ValueError
        elif key == "latency_s" and (isinstance(value, bool) or float(value) < 0):
            raise ValueError
    except (TypeError, ValueError) as exc:
        if str(exc).startswith("'"):
            return str(exc)
        wanted = {"quality": "a whole number (1 small ... 5 best)", "context_window": "a whole number of tokens",
                  "latency_s": "a number of seconds", "input_price": "a number (USD per million tokens)",
                  "output_price": "a number (USD per million tokens)"}.get(key, "valid")
        return f"'{key}' must be {wanted}, not {value!r}"
    return None


def _names(value: Any, what: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        value = [p for p in value.split(",")]
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"'{what}' must be a list of names")
    return frozenset(str(v).strip() for v in value if str(v).strip())


def _price(value: Any, what: str) -> float | None:
    if value is None:
        return None
    price = float(value)
    if price < 0:
        raise ValueError(f"'{what}' must not be negative")
    return price


def _make(name: str, params: dict[str, Any], attrs: dict[str, Any], source: str, environ: Any) -> ModelEntry:
    """An entry; a `sovereignty` in `attrs` counts as declared only from models.yaml (source `config`)."""
    provider = str(params.get("model", "")).split("/", 1)[0]
    declared = attrs.get("sovereignty") if source == "config" else None
    where = classify(params, declared, environ)
    return ModelEntry(
        name=name.strip(),
        params=dict(params),
        sovereignty=where.sovereignty,
        host=where.host,
        host_from=where.source,
        declared=where.declared,
        capabilities=_names(attrs.get("capabilities"), "capabilities") or frozenset({"chat"}),
        input_price=_price(attrs.get("input_price"), "input_price"),
        output_price=_price(attrs.get("output_price"), "output_price"),
        quality=int(attrs.get("quality", 2 if provider != "local" else 1)),
        tags=_names(attrs.get("tags"), "tags"),
        context_window=None if attrs.get("context_window") is None else int(attrs["context_window"]),
        latency_s=None if attrs.get("latency_s") is None else float(attrs["latency_s"]),
        source=source,
    )


# -- where a model's requests go ----------------------------------------------------------------------------


def provider_of(params: dict[str, Any] | Any) -> str:
    """The LiteLLM provider of a deployment: `custom_llm_provider`, the model's prefix, or (a bare name such as
    gpt-4o-mini) the provider LiteLLM's cost map gives it."""
    if params.get("custom_llm_provider"):
        return str(params["custom_llm_provider"])
    model = str(params.get("model", ""))
    prefix, slash, _ = model.partition("/")
    return prefix if slash else str(known(model).get("litellm_provider") or "")


def resolve_base(params: dict[str, Any] | Any, environ: Any) -> tuple[str | None, str]:
    """(base URL, what set it) as LiteLLM resolves it: `base_url`, then `api_base` (an `os.environ/VAR`
    reference read), then the provider's environment variable, then its default (None: not known). The
    embedded model is (None, IN_PROCESS)."""
    provider = provider_of(params)
    if provider == "local":
        return None, IN_PROCESS
    for key in ("base_url", "api_base"):
        value = params.get(key)
        if isinstance(value, str) and value.strip():
            if value.startswith("os.environ/"):
                var = value.removeprefix("os.environ/")
                return environ.get(var) or None, var
            return value.strip(), key
    names, default = PROVIDER_BASES.get(provider, ((), None))
    if not names and provider:
        stem = provider.upper().replace("-", "_")
        names = (f"{stem}_API_BASE", f"{stem}_BASE_URL")
    for var in names:
        if environ.get(var):
            return str(environ[var]).strip(), var
    return default, "default"


def host_of(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return urlparse(url if "://" in url else f"http://{url}").hostname or None
    except ValueError:  # e.g. an unclosed [ipv6 bracket
        return None


@dataclass(frozen=True)
class Destination:
    sovereignty: str
    host: str | None
    source: str  # api_base, base_url, an environment variable, default, in-process
    declared: bool


def classify(params: dict[str, Any] | Any, declared: Any, environ: Any) -> Destination:
    """A deployment's class from where its requests go (see the module's docstring)."""
    url, source = resolve_base(params, environ)
    host = IN_PROCESS if source == IN_PROCESS else host_of(url)
    provider = provider_of(params)
    default = host_of(PROVIDER_BASES.get(provider, ((), None))[1])
    from_environment = source not in ("api_base", "base_url", "default", IN_PROCESS)
    if declared and (not from_environment or (host is not None and host == default)):
        return Destination(str(declared), host, source, True)
    if stays_local(host):
        return Destination(LOCAL, host, source, False)
    if source == "default":
        return Destination(PROVIDER_SOVEREIGNTY.get(provider, "unknown"), host, source, False)
    return Destination("unknown", host, source, False)


def deployment(entry: ModelEntry, environ: Any) -> tuple[dict[str, Any], str | None]:
    """The LiteLLM deployment of an entry, with the api_base resolved here handed to LiteLLM as is, and why it
    must not be sent (None: it may). A `local` entry goes only in-process or to loopback (or to the very host
    models.yaml declared local); no entry goes to another host than the one its route was decided for."""
    url, source = resolve_base(entry.params, environ)
    host = IN_PROCESS if source == IN_PROCESS else host_of(url)
    params = dict(entry.params)
    if url and (source != "default" or stays_local(host)):  # LiteLLM gets the very base URL checked here
        params.pop("base_url", None)
        params["api_base"] = url
    going = f"its requests would go to {host or 'a host not known'}, set by {source}"
    refusal = None
    if entry.host is not None and host != entry.host:
        refusal = f"{entry.name}: its route was decided for {entry.host}, but {going}; nothing was sent"
    elif entry.sovereignty == LOCAL and not stays_local(host) and not entry.declared:
        refusal = f"{entry.name} is classed local, but {going}, off this machine; nothing was sent"
    return {"model_name": entry.name, "litellm_params": params, "model_info": {"id": entry.name}}, refusal


def load_file(path: Path, environ: Any = os.environ) -> tuple[dict[str, Any], list[ModelEntry]]:
    """models.yaml as (settings, entries); InvalidConfig naming file and line on any problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):  # no models.yaml (or no config folder): discovery only
        return {}, []
    except UnicodeDecodeError as exc:
        raise InvalidConfig(f"{path}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:  # the config folder is not a folder, or not readable
        raise StorageError(f"cannot read {path}: {exc.strerror or exc}") from None
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InvalidConfig(f"{path}:{mark.line + 1 if mark else 1}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. a date with no such month
        raise InvalidConfig(f"{path}:{bad_value_line(node)}: unusable YAML value: {str(exc)[:120]}") from None
    if data is None:
        return {}, []
    if not isinstance(data, dict):
        raise InvalidConfig(f"{path}:1: must be a mapping with a model_list")
    lines = key_lines(node)
    unknown = sorted(map(str, set(data) - TOP_KEYS))
    if unknown:
        raise InvalidConfig(f"{path}:{lines.get(unknown[0], 1)}: unknown key '{unknown[0]}' (known: {', '.join(sorted(TOP_KEYS))})")
    raw_list = data.get("model_list") or []
    if not isinstance(raw_list, list):
        raise InvalidConfig(f"{path}:{lines.get('model_list', 1)}: model_list must be a list")
    entries = [_entry(raw, path, lines, f"model_list.{i}", environ) for i, raw in enumerate(raw_list)]
    settings: dict[str, Any] = {}
    route = data.get("route")
    if route is not None and not isinstance(route, dict):
        raise InvalidConfig(f"{path}:{lines.get('route', 1)}: route must be a mapping such as {{sovereignty: [local]}}")
    for key, value in (route or {}).items():  # one key at a time: the message names its line
        try:
            constraints_from({key: value}, f"{path}:{line_at(lines, f'route.{key}')}: route")
        except UsageError as exc:
            raise InvalidConfig(exc.message) from None
    settings["route"] = constraints_from(route, f"{path}: route")
    router = dict(ROUTER_DEFAULTS)
    raw_router = data.get("router") or {}
    if not isinstance(raw_router, dict):
        raise InvalidConfig(f"{path}:{lines.get('router', 1)}: router must be a mapping such as {{num_retries: 1}}")
    for key, value in raw_router.items():
        at = f"{path}:{line_at(lines, f'router.{key}')}"
        if key not in ROUTER_KEYS:
            raise InvalidConfig(f"{at}: unknown router key '{key}' (known: {', '.join(ROUTER_KEYS)})")
        try:
            if isinstance(value, bool):
                raise TypeError
            router[key] = ROUTER_KEYS[key](value)
        except (TypeError, ValueError):
            raise InvalidConfig(f"{at}: router {key} must be a number, not {value!r}") from None
    settings["router"] = router
    discover = data.get("discover") or {}
    if not isinstance(discover, dict):
        raise InvalidConfig(f"{path}:{lines.get('discover', 1)}: discover must be a mapping")
    settings["discover"] = discover
    return settings, entries


# -- discovery -------------------------------------------------------------------------------------------


def embedded_present() -> bool:
    return embedded.model_file("smollm2") is not None


def from_environment(environ: dict[str, str] | os._Environ = os.environ) -> tuple[list[str], list[ModelEntry]]:
    """Cloud providers whose key is set: their names, and a default model or two each. Keys are not read."""
    providers, entries = [], []
    for provider, (keys, models) in CLOUD.items():
        if not any(environ.get(k) for k in keys):
            continue
        providers.append(provider)
        for model, quality in models:
            attrs = _enrich({"quality": quality}, model)
            entries.append(_make(model, {"model": model}, attrs, "env", environ))
    return providers, entries


def _get_json(url: str, timeout: float) -> Any:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - localhost only
        return json.loads(response.read(1_000_000))


def _probe_one(kind: str, base: str, timeout: float) -> list[dict[str, Any]]:
    host = urlparse(base)
    try:  # a refused port answers at once; skip the HTTP request then
        with socket.create_connection((host.hostname or "127.0.0.1", host.port or 80), timeout=timeout):
            pass
    except OSError:
        return []
    try:
        if kind == "ollama":
            names = [m["name"] for m in _get_json(base + "/api/tags", timeout).get("models", [])]
            return [{"name": f"ollama/{n}", "params": {"model": f"ollama_chat/{n}", "api_base": base}} for n in names]
        names = [m["id"] for m in _get_json(base + "/models", timeout).get("data", [])]
        label = urlparse(base).port
        return [{"name": f"localhost-{label}/{n}", "params": {"model": f"openai/{n}", "api_base": base, "api_key": "none"}}
                for n in names]
    except Exception:  # anything else answering on that port is not a model server
        return []


def probe_localhost(cache: Path, servers: list[tuple[str, str]], now: float | None = None,
                    timeout: float = PROBE_TIMEOUT_S) -> list[dict[str, Any]]:
    """Model servers answering on localhost, probed in parallel with a short timeout; cached a few minutes."""
    now = time.time() if now is None else now
    key = [list(s) for s in servers]
    try:
        cached = json.loads(cache.read_text())
        if cached.get("servers") == key and now - float(cached.get("ts", 0)) < PROBE_CACHE_S:
            return list(cached["found"])
    except (OSError, ValueError, AttributeError):
        pass
    results: list[list[dict[str, Any]]] = [[] for _ in servers]

    def run(i: int, kind: str, base: str) -> None:
        results[i] = _probe_one(kind, base, timeout)

    threads = [threading.Thread(target=run, args=(i, k, b), daemon=True) for i, (k, b) in enumerate(servers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout * 3)
    found = [item for group in results for item in group]
    try:
        private_dir(cache.parent)
        replace_private(cache, json.dumps({"ts": now, "servers": key, "found": found}).encode())
    except OSError:
        pass
    return found


def _servers(setting: Any) -> list[tuple[str, str]]:
    if setting is False:
        return []
    if isinstance(setting, list):
        return [("ollama" if ":11434" in str(u) else "openai", str(u).rstrip("/")) for u in setting]
    return list(LOCALHOST_SERVERS)


def load(config_dir: Path, state_dir: Path, environ: dict[str, str] | os._Environ = os.environ) -> Catalog:
    """The whole catalog: models.yaml first (its entries win on a name clash), then the embedded model, then
    localhost servers, then cloud providers found by their keys."""
    settings, entries = load_file(config_dir / "models.yaml", environ)
    discover = settings.get("discover", {})
    reachable: dict[str, bool | None] = {}
    entries = list(entries)
    entries.append(EMBEDDED)
    reachable[EMBEDDED.name] = embedded_present()
    for item in probe_localhost(state_dir / "cache" / "localhost-models.json", _servers(discover.get("localhost", True))):
        entry = _make(item["name"], item["params"], {"input_price": 0, "output_price": 0}, "localhost", environ)
        entries.append(entry)
        reachable.setdefault(entry.name, True)
    providers: list[str] = []
    if discover.get("env", True) is not False:
        providers, found = from_environment(environ)
        entries.extend(found)
    return Catalog(entries, settings.get("route", {}), settings.get("router", dict(ROUTER_DEFAULTS)), reachable,
                   providers)


def adhoc(name: str, environ: Any = os.environ) -> ModelEntry:
    """A model named on the command line that the catalog does not hold: used as given, its sovereignty decided
    by where its requests go (`classify`; a host not known is 'unknown', which an allowed-classes list never
    contains)."""
    attrs = _enrich({}, name)
    return _make(name, {"model": name}, attrs, "adhoc", environ)


def probe_reachable(entries: list[ModelEntry], timeout: float = PROBE_TIMEOUT_S) -> dict[str, bool]:
    """For entries with an api_base: does its host accept a TCP connection (in parallel, short timeout)."""
    out: dict[str, bool] = {}

    def run(entry: ModelEntry) -> None:
        url = urlparse(str(entry.params.get("api_base")))
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            with socket.create_connection((url.hostname or "127.0.0.1", port), timeout=timeout):
                out[entry.name] = True
        except OSError:
            out[entry.name] = False

    threads = [threading.Thread(target=run, args=(e,), daemon=True) for e in entries if e.params.get("api_base")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout * 4)
    return out


def public_params(entry: ModelEntry) -> dict[str, Any]:
    """What may be shown of an entry's litellm_params: the model and api_base (redacted), never a key."""
    out = {"model": entry.params.get("model")}
    if entry.params.get("api_base"):
        out["api_base"] = redact(str(entry.params["api_base"]))
    return out


class CatalogSource:
    """The ModelCatalog port: loads the catalog once, on first use. `extra_route` (config.yaml's `prefer`) sits
    under models.yaml's own `route:`."""

    def __init__(self, config_dir: Path, state_dir: Path, environ: Any = None,
                 extra_route: Callable[[], dict[str, Any]] = dict):
        self.config_dir, self.state_dir = config_dir, state_dir
        self.environ = os.environ if environ is None else environ
        self.extra_route = extra_route  # read after models.yaml, only when a route is planned
        self._catalog: Catalog | None = None

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = load(self.config_dir, self.state_dir, self.environ)
        return self._catalog

    def entries(self) -> list[ModelEntry]:
        return self.catalog.entries

    def route_settings(self) -> dict[str, Any]:
        catalog = self.catalog
        return {k: v for k, v in self.extra_route().items() if v} | catalog.route

    def adhoc(self, name: str) -> ModelEntry:
        return adhoc(name, self.environ)
