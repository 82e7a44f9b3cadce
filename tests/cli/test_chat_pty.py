"""`dos chat` end to end in a real pseudo-terminal (tmux): prompt, answer, /skill, Ctrl-C mid-answer, resize,
a 1 MB paste, live reload of a skill, Ctrl-D; then the memory log holds every turn, the interrupted one partial.
Each test runs with the turns in the chat's process and in the warm kernel (Ctrl-C then travels as a cancel)."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.support.chat_tmux import Tmux, have_tmux
from tests.support.kernel_on import stop_kernel

pytestmark = pytest.mark.skipif(not have_tmux(), reason="needs tmux")
PROMPT = "› "
TOOLBAR = "tokens · $"


def responses(dos_home) -> list[sqlite3.Row]:
    path = dos_home / "data" / "memory.db"
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        return db.execute("SELECT * FROM events WHERE kind = 'response' ORDER BY seq").fetchall()
    except sqlite3.OperationalError:  # the database is being created
        return []
    finally:
        db.close()


def wait_responses(tmux: Tmux, dos_home, count: int, timeout: float = 120) -> None:
    tmux.wait_for(lambda s: len(responses(dos_home)) >= count, timeout, poll=0.2)


@pytest.fixture
def tmux(tmp_path):
    t = Tmux("e2e", tmp_path)
    yield t
    t.close()


@pytest.fixture(params=["in-process", "kernel"])
def chat_env(request, dos, dos_home):
    """The chat's environment: DOS_HOME, and the kernel off or on (stopped afterwards)."""
    yield {"DOS_HOME": str(dos_home), "DOS_KERNEL": "1" if request.param == "kernel" else "0"}
    if request.param == "kernel":
        stop_kernel(dos, dos_home)


@pytest.mark.model
def test_the_repl_end_to_end_in_a_pseudo_terminal(tmux, dos, dos_home, tmp_path, chat_env):
    tmux.start(["chat", "--temperature", "0", "--max-tokens", "48"], chat_env)
    tmux.wait_text(TOOLBAR, timeout=60)

    # a prompt and the embedded model's answer
    tmux.type("What is the capital of France?")
    wait_responses(tmux, dos_home, 1)
    first = responses(dos_home)[0]
    assert json.loads(first["data"])["complete"] is True
    screen = tmux.wait_text(first["text"].split()[0])
    assert "Traceback" not in screen

    # /skill for the next turns
    tmux.type("/skill explain")
    tmux.wait_text("skill: explain")

    # Ctrl-C mid-answer: back at the prompt, the partial answer kept
    before = tmux.screen()
    tmux.type("Write a very long story about a dragon who learns to code.")
    tmux.wait_for(lambda s: s != before and "dragon" in s, timeout=60)
    tmux.wait_for(lambda s: _answer_started(s), timeout=120, poll=0.02)
    tmux.send("C-c")
    tmux.wait_text("stopped; the partial answer is kept in memory")

    # a resize, then a turn in the small window
    tmux.tmux("resize-window", "-t", "chat", "-x", "50", "-y", "16")
    tmux.type("/skill chat")
    tmux.wait_text("skill: chat")
    tmux.type("Say hello.")
    wait_responses(tmux, dos_home, 3)

    # a 1 MB paste: shown, then cleared with Ctrl-C (the prompt stays usable)
    words = ("alpha beta gamma delta " * 50_000).encode()[:1_000_000]
    tmux.paste(words)
    tmux.wait_text("gamma delta", timeout=60)
    tmux.send("C-c")
    tmux.type("/cost")
    tmux.wait_text("total", timeout=60)

    # Ctrl-D exits cleanly
    tmux.send("C-d")
    assert tmux.exit_code() == 0
    assert "Traceback" not in tmux.screen()

    log = dos("memory", "log", "--json")
    turns = json.loads(log.out)
    assert [t["skill"] for t in turns] == ["chat", "explain", "chat"]
    assert [t["complete"] for t in turns] == [True, False, True]
    assert turns[1]["error"] == "interrupted"
    assert turns[1]["response"]  # the part that did arrive
    assert len({t["session_id"] for t in turns}) == 1
    assert (dos_home / "state" / "chat-history").stat().st_mode & 0o777 == 0o600
    assert "What is the capital of France?" in (dos_home / "state" / "chat-history").read_text()
    if chat_env["DOS_KERNEL"] == "1":  # every turn, the interrupted one too, was the kernel's
        assert json.loads(dos("kernel", "status", "--json", env={"DOS_KERNEL": "1"}).out)["served"] == 3


def _answer_started(screen: str) -> bool:
    """Text below the dragon prompt, other than the spinner."""
    lines = screen.splitlines()
    at = max(i for i, line in enumerate(lines) if "dragon" in line)
    below = [ln for ln in lines[at + 1:] if ln.strip() and TOOLBAR not in ln]
    return bool(below) and not any("waiting for the model" in ln for ln in below)


@pytest.mark.model
def test_an_edited_skill_takes_effect_on_the_next_turn(tmux, dos_home, tmp_path, chat_env):
    skill = dos_home / "data" / "skills" / "shout"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: shout\ndescription: Say it.\n---\nReply with one word.\n")
    tmux.start(["chat", "--temperature", "0", "--max-tokens", "4"], chat_env)
    tmux.wait_text(TOOLBAR, timeout=60)
    tmux.type("/shout hi")
    wait_responses(tmux, dos_home, 1)
    (skill / "SKILL.md").write_text("---\nname: shout\ndescription: Say it loud.\n---\nReply with two words.\n")
    new = dos_home / "data" / "skills" / "whisper"
    new.mkdir()
    (new / "SKILL.md").write_text("---\nname: whisper\ndescription: Quietly.\n---\nReply softly.\n")
    import time

    time.sleep(1)  # the watcher's thread marks the session stale
    tmux.type("/whisper hi")
    tmux.wait_text("reloaded:", timeout=30)
    wait_responses(tmux, dos_home, 2)
    assert "unknown command" not in tmux.screen()
    tmux.send("C-d")
    assert tmux.exit_code() == 0
