"""The shape of the code: the core stays pure, and commands that call no model stay light."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO, clean_env

HEAVY = ("litellm", "llama_cpp", "mcp", "starlette", "uvicorn")

PROBE = """
import json, sys
sys.argv = ["dos", *json.loads(sys.argv[1])]
from dos.cli.entry import main
try:
    main()
except SystemExit:
    pass
with open({out!r}, "w") as f:
    json.dump(sorted(sys.modules), f)
"""


def modules_loaded_by(args: list[str], dos_home: Path, tmp_path: Path, packages: bool = True) -> set[str]:
    """The top-level packages `dos ARGS` imported (`packages=False`: every module, by its full name)."""
    out = tmp_path / "modules.json"
    env = clean_env(dos_home)
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(out=str(out)), json.dumps(args)],
        capture_output=True, env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    return {m.split(".")[0] if packages else m for m in json.loads(out.read_text())}


@pytest.mark.parametrize("args", [["--version"], ["skills", "list"], ["memory", "log"], ["--help"], ["run", "--help"],
                                  ["tokens", "list"], ["serve", "--help"]])
def test_commands_that_call_no_model_import_no_heavy_library(args, dos_home, tmp_path):
    loaded = modules_loaded_by(args, dos_home, tmp_path)
    assert "dos" in loaded  # the probe really ran the CLI
    assert not loaded & set(HEAVY), f"dos {' '.join(args)} imported {sorted(loaded & set(HEAVY))}"


@pytest.mark.parametrize("args", [["skills", "list"], ["--help"], ["trust", "list"]])
def test_commands_that_run_no_turn_load_no_tool_or_permission_module(args, dos_home, tmp_path):
    loaded = modules_loaded_by(args, dos_home, tmp_path, packages=False)
    assert "dos.core.turn.runner" in loaded  # the probe really ran a command that can build a turn runner
    tools = {"dos.core.turn.tool_loop", "dos.core.turn.tool_gate", "dos.core.permissions"}
    assert not loaded & tools, f"dos {' '.join(args)} imported {sorted(loaded & tools)}"


def test_version_fast_path_imports_neither_typer_nor_rich(dos_home, tmp_path):
    loaded = modules_loaded_by(["--version"], dos_home, tmp_path)
    assert not loaded & {"typer", "rich", "yaml", "sqlite3"}


def test_import_contracts_hold():
    lint = Path(sys.executable).parent / "lint-imports"
    proc = subprocess.run([str(lint), str(REPO / "pyproject.toml")], capture_output=True, cwd=REPO,
                          timeout=120)
    out = proc.stdout.decode()
    assert proc.returncode == 0, out
    assert "Contracts: 9 kept, 0 broken" in out


def lint_a_copy_with(tmp_path: Path, leaks: dict[str, str]) -> str:
    """lint-imports on a copy of the package with `leaks` (a path under dos/ -> its source) planted: its report,
    once it has failed."""
    import shutil

    copy = tmp_path / "src"
    shutil.copytree(REPO / "dos", copy / "dos", ignore=shutil.ignore_patterns("__pycache__", "_builtin"))
    for rel, source in leaks.items():
        (copy / "dos" / rel).write_text(source)
    shutil.copy(REPO / "pyproject.toml", copy / "pyproject.toml")
    lint = Path(sys.executable).parent / "lint-imports"
    env = dict(os.environ, PYTHONPATH=str(copy))
    proc = subprocess.run([str(lint), "--no-cache"], capture_output=True, cwd=copy, env=env, timeout=120)
    out = proc.stdout.decode()
    assert proc.returncode != 0, out
    return out


def test_import_contract_catches_a_core_module_importing_an_adapter(tmp_path):
    """The contract is not vacuous: a copy of the package whose core imports litellm breaks it."""
    out = lint_a_copy_with(tmp_path, {"core/leak.py": "import litellm\nimport sqlite3\nfrom dos.adapters.files import paths\n"})
    for target in ("litellm", "sqlite3", "dos.adapters.files.paths"):
        assert f"dos.core.leak -> {target}" in out


def test_adapter_floors_catch_an_import_upward_or_across_a_floor(tmp_path):
    """A room of dos/adapters uses the floors below it only: files/ reaching up to store/, or skills/ across to
    models/ (the same floor), breaks the contract."""
    out = lint_a_copy_with(tmp_path, {"adapters/files/leak.py": "from dos.adapters.store import sqlite_memory\n",
                                      "adapters/skills/leak.py": "from dos.adapters.models import catalog\n"})
    assert "dos.adapters.files.leak -> dos.adapters.store.sqlite_memory" in out
    assert "dos.adapters.skills.leak -> dos.adapters.models.catalog" in out


def test_the_kernel_below_the_cli_catches_an_import_upward(tmp_path):
    """The kernel runs turns through the composition root; it never reaches up into the CLI (it did: the typer
    app ran `dos run` in it), nor draws with rich; the composition root never reaches into the kernel."""
    out = lint_a_copy_with(tmp_path, {"kernel/leak.py": "from dos.cli.turn import run\nimport rich\n"})
    assert "dos.kernel.leak -> dos.cli.turn.run" in out
    assert "dos.kernel.leak -> rich" in out
    out = lint_a_copy_with(tmp_path / "2", {"adapters/files/leak.py": "from dos.kernel import client\n"})
    assert "dos.adapters.files.leak -> dos.kernel.client" in out


def test_adapters_sit_in_rooms_whose_package_files_import_nothing():
    """No module at the root of dos/adapters; a room's __init__.py is empty, so importing one module of it (the thin
    client imports files/private.py on every `dos run`) costs no more than it did before the rooms; no room over 12."""
    root = REPO / "dos" / "adapters"
    assert sorted(p.name for p in root.glob("*.py")) == ["__init__.py"]
    rooms = sorted(d for d in root.iterdir() if (d / "__init__.py").is_file())
    assert {d.name for d in rooms} >= {"files", "models", "store", "skills", "hooks", "mcp", "project", "sync", "tools"}
    for room in [root, *rooms]:
        assert (room / "__init__.py").read_text().strip() == "", room
        assert len(list(room.glob("*.py"))) - 1 <= 12, room


def test_wheel_carries_builtin_content(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path), str(REPO)],
        capture_output=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    wheel = next(tmp_path.glob("dos-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for skill in ("summarize", "explain", "rewrite", "commit-message"):
        assert any(n.startswith("dos/_builtin/") and n.endswith(f"{skill}/SKILL.md") for n in names), skill
    assert "dos/cli/entry.py" in names


@pytest.mark.parametrize("first", ["dos.adapters.models.local_model", "dos.adapters.models.litellm_setup",
                                   "dos.bootstrap"])
def test_litellm_cost_map_never_comes_from_the_network(first):
    """Whichever DOS module pulls LiteLLM in first, its cost map is the packaged copy (no network fetch)."""
    probe = (
        f"import importlib; m = importlib.import_module({first!r})\n"
        "getattr(m, 'warm_up', getattr(m, 'litellm_module', lambda: None))()\n"
        "from litellm.litellm_core_utils.get_model_cost_map import get_model_cost_map_source_info as info\n"
        "print(info()['source'], info()['is_env_forced'])"
    )
    env = {k: v for k, v in os.environ.items() if k != "LITELLM_LOCAL_MODEL_COST_MAP"}
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert proc.stdout.decode().split() == ["local", "True"]
    assert b"fetch" not in proc.stderr


CYCLES = """
import json, sys
import grimp

graph = grimp.build_graph("dos")
index, low, stack, on, found = {}, {}, [], set(), []
sys.setrecursionlimit(10000)


def visit(v):
    index[v] = low[v] = len(index)
    stack.append(v)
    on.add(v)
    for w in graph.find_modules_directly_imported_by(v):
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        part = []
        while True:
            w = stack.pop()
            on.discard(w)
            part.append(w)
            if w == v:
                break
        if len(part) > 1:
            found.append(sorted(part))


for m in sorted(graph.modules):
    if m not in index:
        visit(m)
print(json.dumps(found))
"""


def import_cycles(root: Path) -> list[list[str]]:
    """The import cycles among the modules of the `dos` package under `root` (strongly connected components of
    its import graph, imports inside functions included, as grimp reads them)."""
    proc = subprocess.run([sys.executable, "-c", CYCLES], capture_output=True, cwd=root, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(root)))
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(proc.stdout)


def test_no_import_cycle_among_dos_modules(tmp_path):
    """Issue 19: no cycle, not even one hidden by an import inside a function; and the check sees a planted one."""
    assert import_cycles(REPO) == []
    import shutil

    copy = tmp_path / "src"
    shutil.copytree(REPO / "dos", copy / "dos", ignore=shutil.ignore_patterns("__pycache__", "_builtin"))
    (copy / "dos" / "core" / "loop_a.py").write_text("def f():\n    from dos.core import loop_b\n")
    (copy / "dos" / "core" / "loop_b.py").write_text("from dos.core import loop_a\n")
    assert import_cycles(copy) == [["dos.core.loop_a", "dos.core.loop_b"]]


def test_no_folder_of_the_package_holds_more_than_12_modules():
    """Issue 19: every folder of dos/ holds at most 12 modules besides its __init__.py, and the rooms of core/ and
    cli/ have empty __init__ files, so importing one module of a room costs no more than it did before the rooms."""
    root = REPO / "dos"
    for init in sorted(root.rglob("__init__.py")):
        assert len(list(init.parent.glob("*.py"))) - 1 <= 12, init.parent
    for room in ["core/turn", "core/routing", "core/skills", "core/serve", "cli/turn", "cli/extensions",
                 "cli/routing", "cli/system"]:
        assert (root / room / "__init__.py").read_text().strip() == "", room


def test_room_contracts_catch_a_shared_noun_reaching_into_a_room_and_one_command_group_into_another(tmp_path):
    """The rooms of core/ and cli/ (issue 19) are not vacuous: a noun at core's root importing the turn, routing
    reaching up into serve, or one CLI command group reaching into another breaks a contract."""
    out = lint_a_copy_with(tmp_path, {"core/printable.py": "from dos.core.turn import runner\n",
                                      "core/routing/leak.py": "from dos.core.serve import gateway\n",
                                      "cli/system/leak.py": "from dos.cli.extensions import skills\n"})
    assert "dos.core.printable -> dos.core.turn.runner" in out
    assert "dos.core.routing.leak -> dos.core.serve.gateway" in out
    assert "dos.cli.system.leak -> dos.cli.extensions.skills" in out


def test_the_shared_nouns_contract_names_every_module_at_the_root_of_core():
    """A module added at core's root is held to the shared-nouns contract too: the contract lists them all."""
    import tomllib

    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    nouns = next(c for c in contracts if c["name"].startswith("Core's shared nouns"))
    root = {f"dos.core.{p.stem}" for p in (REPO / "dos" / "core").glob("*.py") if p.stem != "__init__"}
    assert set(nouns["source_modules"]) == root
