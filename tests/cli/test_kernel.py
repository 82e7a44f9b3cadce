"""The warm kernel, driven through the real `dos` client: start, reuse, concurrency, crashes, security."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dos.kernel.protocol import socket_path
from tests.conftest import clean_env
from tests.support.kernel_on import kernel_on

pytestmark = pytest.mark.model
FAST = ["--temperature", "0", "--max-tokens", "8"]
LONG = ["--temperature", "0", "--max-tokens", "300", "Explain in detail how file permissions work on Linux."]


@pytest.fixture
def kdos(dos, dos_home):
    """`dos` with the kernel on; the kernel is stopped (or killed) afterwards."""
    with kernel_on(dos, dos_home) as call:
        yield call


def status(kdos) -> dict:
    return json.loads(kdos("kernel", "status", "--json").out)


def events(dos_home: Path) -> list[sqlite3.Row]:
    db = sqlite3.connect(dos_home / "data" / "memory.db")
    db.row_factory = sqlite3.Row
    return db.execute("SELECT * FROM events WHERE kind IN ('prompt', 'response') ORDER BY seq").fetchall()


def popen(dos_home: Path, cwd: Path, *args: str, **env: str) -> subprocess.Popen:
    full = clean_env(dos_home, DOS_KERNEL="1", **env)
    return subprocess.Popen([sys.executable, "-m", "dos", *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=full, cwd=cwd)


def wait_for_output(proc: subprocess.Popen, at_least: int = 20, timeout: float = 120) -> bytes:
    os.set_blocking(proc.stdout.fileno(), False)
    seen, deadline = b"", time.monotonic() + timeout
    while len(seen) < at_least and time.monotonic() < deadline and proc.poll() is None:
        seen += proc.stdout.read() or b""
        time.sleep(0.05)
    assert len(seen) >= at_least, "the answer never started streaming"
    return seen


def test_first_run_starts_the_kernel_and_later_runs_reuse_it(kdos, dos_home):
    first = kdos("run", "summarize", "--json", *FAST, input="Kernels keep models warm between runs.")
    assert first.code == 0, first.err
    pid = status(kdos)["pid"]
    second = kdos("run", "explain", *FAST, "what is a socket")
    assert second.code == 0, second.err
    assert second.out.strip() and "\x1b[" not in second.out
    after = status(kdos)
    assert (after["pid"], after["served"]) == (pid, 2)
    assert json.loads(first.out)["turn_id"] in {e["turn_id"] for e in events(dos_home)}
    assert [e["kind"] for e in events(dos_home)] == ["prompt", "response"] * 2
    mode = socket_path(dos_home / "state").stat().st_mode & 0o777
    assert mode == 0o600


def test_status_says_whether_a_kernel_runs_and_exits_0_either_way(kdos):
    idle = kdos("kernel", "status", "--json")
    assert idle.code == 0 and json.loads(idle.out) == {"running": False}
    assert kdos("kernel", "start").code == 0
    running = status(kdos)
    assert running["running"] is True and running["pid"] > 0


def test_errors_come_back_with_their_exit_codes(kdos):
    assert kdos("run", "summarise", "hi").code == 3
    empty = kdos("run", "summarize", input="")
    assert empty.code == 2 and empty.err.startswith("dos: nothing to send")
    bad_option = kdos("run", "summarize", "--max-tokens", "0", "hi")  # typer writes its usage error as bytes
    assert bad_option.code == 2 and "Invalid value for '--max-tokens'" in bad_option.err
    assert "mid-turn" not in bad_option.err


def test_concurrent_clients_are_all_served(kdos, dos_home, tmp_path):
    assert kdos("kernel", "start").code == 0
    procs = [popen(dos_home, tmp_path, "run", "explain", *FAST, f"what is {word}")
             for word in ("a file", "a port", "a pipe", "a shell")]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err.decode() for _, err in results]
    assert all(out.strip() for out, _ in results)
    responses = [e for e in events(dos_home) if e["kind"] == "response"]
    assert len(responses) == 4 and all(json.loads(r["data"])["complete"] for r in responses)
    assert status(kdos)["served"] == 4


def test_ctrl_c_cancels_the_turn_in_the_kernel(kdos, dos_home, tmp_path):
    assert kdos("kernel", "start").code == 0
    proc = popen(dos_home, tmp_path, "run", "explain", *LONG)
    wait_for_output(proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and err.decode().strip() == "dos: interrupted"
    prompt, response = events(dos_home)
    assert json.loads(response["data"])["complete"] is False and response["text"]
    assert status(kdos)["active"] == 0  # the kernel is free again


def test_kill_9_of_the_kernel_mid_stream_keeps_the_partial_answer_and_never_runs_the_turn_twice(kdos, dos_home,
                                                                                               tmp_path):
    assert kdos("kernel", "start").code == 0
    proc = popen(dos_home, tmp_path, "run", "explain", "--temperature", "0", "--max-tokens", "120",
                 "Explain in detail how file permissions work on Linux.")
    seen = wait_for_output(proc)
    os.kill(status(kdos)["pid"], signal.SIGKILL)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 17, err.decode()
    lines = err.decode().splitlines()
    assert len(lines) == 1 and "the kernel died from SIGKILL" in lines[0] and "during this turn" in lines[0], lines
    assert not (dos_home / "state" / "embedded-crash.json").exists()  # killed from outside: the model is not blamed
    assert "the prompt and the partial answer are in memory" in lines[0] and "not run again" in lines[0]
    prompts = [e for e in events(dos_home) if e["kind"] == "prompt"]
    assert len(prompts) == 1  # executed once: the client did not run it again in-process
    response = events(dos_home)[-1]
    data = json.loads(response["data"])
    assert response["kind"] == "response" and data["complete"] is False and data["error"] == "crashed"
    assert response["text"] and (seen + out).decode().startswith(response["text"][:20])
    assert prompts[0]["turn_id"] in lines[0]


def test_stale_socket_file_is_replaced(kdos, dos_home):
    path = socket_path(dos_home / "state")
    path.parent.mkdir(parents=True)
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(str(path))
    dead.close()  # a socket file nobody listens on, as a killed kernel leaves behind
    run = kdos("run", "explain", *FAST, "what is a socket")
    assert run.code == 0, run.err
    assert "mid-turn" not in run.err and status(kdos)["served"] == 1


def test_a_socket_of_another_user_is_never_used(kdos, dos_home):
    path = socket_path(dos_home / "state")
    path.parent.mkdir(parents=True)
    foreign = socket.socket(socket.AF_UNIX)
    foreign.bind(str(path))
    os.chown(path, 65534, 65534)
    run = kdos("run", "explain", *FAST, "what is a socket")
    assert run.code == 0 and run.out.strip()
    assert f"the kernel socket {path} belongs to another user; not using it" in run.err
    foreign.close()


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to act as a second user")
def test_another_user_cannot_connect_to_the_kernel(kdos, dos_home, tmp_path):
    assert kdos("kernel", "start").code == 0
    path = socket_path(dos_home / "state")
    public = tmp_path / "public.sock"
    os.link(path, public)  # the same socket, in a folder a second user may enter
    os.chmod(tmp_path, 0o755)
    os.chmod(tmp_path.parent, 0o755)
    child = os.fork()
    if child == 0:  # become a second user, then try to connect
        os.setgid(65534)
        os.setuid(65534)
        try:
            socket.socket(socket.AF_UNIX).connect(str(public))
            os._exit(0)
        except PermissionError:
            os._exit(13)
        except BaseException:
            os._exit(1)
    _, code = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(code) == 13
    assert status(kdos)["served"] == 0


def test_a_kernel_of_another_version_or_environment_is_replaced(kdos):
    assert kdos("kernel", "start").code == 0
    old = status(kdos)["pid"]
    run = kdos("run", "explain", *FAST, "what is a socket", env={"DOS_PROFILE_NAME": "other"})
    assert run.code == 0, run.err
    new = status(kdos)
    assert new["pid"] != old


def test_thin_client_imports_no_typer_rich_or_litellm(kdos, dos_home, tmp_path):
    assert kdos("kernel", "start").code == 0
    out = tmp_path / "modules.json"
    probe = (
        "import sys\nsys.argv = ['dos', 'run', 'explain', '--max-tokens', '4', 'hi']\n"
        "from dos.cli.entry import main\ntry:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
        f"modules = sorted(sys.modules)\nimport json\njson.dump([code, modules], open({str(out)!r}, 'w'))\n"
    )
    env = clean_env(dos_home, DOS_KERNEL="1")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, env=env, cwd=tmp_path,
                          stdin=subprocess.DEVNULL, timeout=120)
    code, modules = json.loads(out.read_text())
    assert code == 0, proc.stderr.decode()
    loaded = {m.split(".")[0] for m in modules}
    assert not loaded & {"typer", "rich", "litellm", "llama_cpp", "yaml", "sqlite3"}, proc.stderr.decode()
    # nor what costs a start-up ~12 ms (under DOS_HOME, as here; without it platformdirs brings pathlib)
    assert not loaded & {"json", "re", "enum", "pathlib", "socket", "signal", "hashlib", "typing", "dataclasses"}


def test_a_dos_package_in_the_current_folder_never_runs_in_the_kernel(kdos, dos_home, tmp_path):
    """The kernel is started with `python -P`: the folder a client runs in is not on its import path."""
    project = tmp_path / "project"
    (project / "dos").mkdir(parents=True)
    marker = tmp_path / "shadow-imported"
    (project / "dos" / "__init__.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    (project / "dos" / "kernel.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    script = Path(sys.executable).parent / "dos"  # the console script, as a user runs it
    run = subprocess.run([str(script), "run", "explain", *FAST, "what is a file"], capture_output=True, text=True,
                         env=clean_env(dos_home, DOS_KERNEL="1"), cwd=project, timeout=180)
    assert run.returncode == 0, run.stderr
    assert status(kdos)["served"] == 1 and not marker.exists()


def test_restart_while_a_turn_runs_waits_for_it_and_starts_a_new_kernel(kdos, dos_home, tmp_path):
    assert kdos("kernel", "start").code == 0
    old = status(kdos)["pid"]
    proc = popen(dos_home, tmp_path, "run", "explain", *LONG)
    wait_for_output(proc, at_least=5)
    restart = kdos("kernel", "restart")
    out, err = proc.communicate(timeout=300)
    assert restart.code == 0, restart.err
    assert proc.returncode == 0, err.decode()  # the running turn finished in the old kernel
    assert json.loads(events(dos_home)[-1]["data"])["complete"] is True
    new = status(kdos)["pid"]
    assert new != old
    with pytest.raises(ProcessLookupError):
        os.kill(old, 0)
