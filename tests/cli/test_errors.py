"""Bad input: a distinct exit code, one line on stderr, no traceback, nothing written half."""

from __future__ import annotations

import pytest

from tests.cli.test_run import memory_events


def assert_one_line(err: str) -> None:
    assert err.startswith("dos: ") and err.count("\n") == 1, err
    assert "Traceback" not in err


def test_unknown_skill_lists_near_names(dos, dos_home):
    run = dos("run", "summarise", "hello")
    assert run.code == 3
    assert_one_line(run.err)
    assert "unknown skill 'summarise'" in run.err and "summarize" in run.err
    assert memory_events(dos_home) == []


def test_empty_stdin_without_text_is_a_usage_error(dos, dos_home):
    run = dos("run", "summarize", input="  \n\n")
    assert run.code == 2
    assert_one_line(run.err)
    assert memory_events(dos_home) == []


def test_broken_yaml_skill_names_file_and_line(dos, dos_home, tmp_path):
    skill = tmp_path / ".dos" / "skills" / "broken"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: broken\ndescription: [unclosed\n---\nBody\n")
    run = dos("run", "broken", "hello")
    assert run.code == 5
    assert_one_line(run.err)
    assert f"{skill / 'SKILL.md'}:" in run.err and "broken YAML" in run.err
    assert memory_events(dos_home) == []
    listing = dos("skills", "list")
    assert listing.code == 0 and "broken" in listing.out and "BROKEN" in listing.out


@pytest.mark.parametrize("layout", ["home_is_a_file", "database_is_a_folder"])
def test_unusable_dos_home_is_a_storage_error(dos, dos_home, layout):
    env = {}
    if layout == "home_is_a_file":
        bogus = dos_home / "not-a-folder"
        bogus.write_text("x")
        env = {"DOS_HOME": str(bogus)}
    else:
        (dos_home / "data" / "memory.db").mkdir(parents=True)
    run = dos("run", "summarize", "hello", env=env)
    assert run.code == 6
    assert_one_line(run.err)
    assert "memory database" in run.err


def test_bad_option_is_typer_usage_error(dos):
    run = dos("run", "summarize", "--max-tokens", "zero")
    assert run.code == 2
    assert "Traceback" not in run.err


def test_version(dos):
    from dos import __version__

    for flag in ("--version", "-V"):
        run = dos(flag)
        assert (run.code, run.out.strip()) == (0, f"dos {__version__}")
