"""fabric pattern folders import as skills that validate and list."""

from __future__ import annotations

import json


def test_import_fabric_patterns(dos, dos_home, tmp_path):
    patterns = tmp_path / "patterns"
    (patterns / "extract_wisdom").mkdir(parents=True)
    (patterns / "extract_wisdom" / "system.md").write_text(
        "# IDENTITY and PURPOSE\n\nYou extract surprising, insightful ideas from text.\n\n# INPUT\n\nINPUT:\n{{input}}\n")
    (patterns / "Summarize-Quote \"x\"").mkdir()
    (patterns / "Summarize-Quote \"x\"" / "system.md").write_text("You summarize: \\n {{input}}\n")
    (patterns / "bad_bytes").mkdir()
    (patterns / "bad_bytes" / "system.md").write_bytes(b"\xff\xfe\x00bad")
    (patterns / "no_system").mkdir()

    r = dos("skills", "import-fabric", str(patterns))
    assert r.code == 0, r.err
    assert "imported 2 patterns" in r.out and "skipped 1" in r.out and "bad-bytes" in r.err
    skill = dos_home / "data" / "skills" / "extract-wisdom" / "SKILL.md"
    assert "{{input}}" not in skill.read_text()
    assert dos("skills", "validate", str(dos_home / "data" / "skills")).code == 0
    rows = {s["name"]: s for s in json.loads(dos("skills", "list", "--json").out)}
    assert rows["extract-wisdom"]["description"].startswith("You extract surprising")
    assert "summarize-quote-x" in rows

    again = dos("skills", "import-fabric", str(patterns))
    assert again.code == 0 and "already exists" in again.err
    assert dos("skills", "import-fabric", str(tmp_path / "none")).code == 2
