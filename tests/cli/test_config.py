"""`dos config`: every error path names file and line, and a bad change never replaces a good file."""

from __future__ import annotations

import json

import pytest


def config_path(dos_home):
    return dos_home / "config" / "config.yaml"


def test_defaults_without_a_file(dos, dos_home):
    run = dos("config", "show", "--json")
    assert run.code == 0, run.err
    shown = json.loads(run.out)
    assert shown["path"] == str(config_path(dos_home))
    assert shown["settings"]["default_model"] == "local/smollm2" and shown["problems"] == []
    assert not config_path(dos_home).exists()


def test_set_writes_a_commented_file_and_get_reads_it(dos, dos_home):
    assert dos("config", "set", "recall", "off").code == 0
    assert dos("config", "set", "recall_tokens", "256").code == 0
    text = config_path(dos_home).read_text()
    assert "# Offer relevant past turns" in text and "recall: false" in text and "recall_tokens: 256" in text
    assert dos("config", "get", "recall").out.strip() == "false"
    assert dos("config", "get", "recall_tokens").out.strip() == "256"


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("prefer", "slowest", "must be one of local-first, cheapest, best, fastest"),
        ("recall_tokens", "many", "must be a whole number"),
        ("recall_tokens", "-1", "must be at least 0"),
        ("recall", "maybe", "must be true or false"),
    ],
)
def test_bad_set_is_refused_and_the_file_is_unchanged(dos, dos_home, key, value, message):
    assert dos("config", "set", "prefer", "cheapest").code == 0
    before = config_path(dos_home).read_bytes()
    run = dos("config", "set", "--", key, value)  # "--" lets VALUE start with "-"
    assert run.code == 5 and message in run.err and run.err.count("\n") == 1
    assert config_path(dos_home).read_bytes() == before


def test_unknown_key_is_a_usage_error(dos):
    run = dos("config", "set", "colour", "red")
    assert run.code == 2 and "unknown setting 'colour'" in run.err


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("prefer: cheapest\nrecall: [\n", 3, "not valid YAML"),
        ("prefer: cheapest\nwhatever: 1\n", 2, "unknown key 'whatever'"),
        ("recall_tokens: 5\nrecall_tokens: 6\n", 2, "set twice (first on line 1)"),
        ("- a list\n", 1, "must be a mapping"),
        ("output: fancy\n", 1, "must be one of auto, plain, rich"),
        ("prefer: cheapest\neditor: 2025-13-45\n", 2, "unusable value for 'editor': month must be in 1..12"),
    ],
)
def test_broken_file_is_reported_with_file_and_line(dos, dos_home, text, line, message):
    config_path(dos_home).parent.mkdir(parents=True)
    config_path(dos_home).write_text(text)
    shown = dos("config", "show")
    assert shown.code == 5 and f"{config_path(dos_home)}:{line}: " in shown.err and message in shown.err
    got = dos("config", "get", "prefer")
    assert got.code == 5 and got.err.startswith(f"dos: {config_path(dos_home)}:{line}: ")
    assert got.err.count("\n") == 1


def test_edit_saves_only_a_valid_result(dos, dos_home, tmp_path):
    good = tmp_path / "good-editor.sh"
    good.write_text("#!/bin/sh\nsed -i 's/^prefer: .*/prefer: best/' \"$1\"\n")
    bad = tmp_path / "bad-editor.sh"
    bad.write_text("#!/bin/sh\necho 'prefer: [' >> \"$1\"\n")
    for script in (good, bad):
        script.chmod(0o755)
    assert dos("config", "edit", env={"EDITOR": str(good)}).code == 0
    assert dos("config", "get", "prefer").out.strip() == "best"
    before = config_path(dos_home).read_bytes()
    run = dos("config", "edit", env={"EDITOR": str(bad)})
    assert run.code == 5 and "your edit is kept in" in run.err
    kept = run.err.rsplit("kept in ", 1)[1].strip()
    assert "prefer: [" in open(kept).read()
    assert config_path(dos_home).read_bytes() == before


def test_missing_editor_is_a_usage_error(dos):
    run = dos("config", "edit", env={"EDITOR": "no-such-editor-xyz", "VISUAL": ""})
    assert run.code == 2 and "editor 'no-such-editor-xyz' not found" in run.err
