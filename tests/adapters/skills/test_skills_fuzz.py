"""Fuzz the frontmatter and manifest parsers: any input either loads or fails as a DosError with a clear message."""

from __future__ import annotations

import json
import string

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dos.adapters.files.yaml_text import parse_frontmatter
from dos.adapters.skills.packs import read_pack
from dos.core.errors import DosError, InvalidSkill
from dos.core.skills.rules import check_frontmatter, check_pack_manifest

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=20)
keys = st.sampled_from(["name", "description", "license", "allowed-tools", "metadata", "compatibility", "x"])
frontmatters = st.dictionaries(keys, values, max_size=7) | st.fixed_dictionaries(
    {"name": st.text(max_size=70), "description": st.text(max_size=40), "metadata": st.dictionaries(st.just("dos"), values)})
yamlish = st.text(alphabet=string.printable + "é\u2028\x00\ufeff", max_size=300)


def loads_or_fails_cleanly(call):
    try:
        call()
    except DosError as exc:
        assert exc.message and "\n" not in exc.message.strip() and len(exc.message) < 2000


@FUZZ
@given(yamlish)
def test_frontmatter_text(text):
    loads_or_fails_cleanly(lambda: parse_frontmatter(text, "f.md"))
    loads_or_fails_cleanly(lambda: parse_frontmatter("---\n" + text + "\n---\nbody", "f.md"))


@FUZZ
@given(frontmatters)
def test_frontmatter_structures(meta):
    text = "---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---\nbody\n"
    def load():
        doc = parse_frontmatter(text, "f.md")
        json.dumps(doc.data)
        for problem in check_frontmatter(doc.data, "folder", doc.lines):
            assert problem.severity in ("error", "warning") and problem.line >= 1
    loads_or_fails_cleanly(load)


@FUZZ
@given(st.dictionaries(st.text(max_size=12), values, max_size=8))
def test_manifest_rules_never_raise(manifest):
    check_pack_manifest(manifest, "folder")


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(yamlish | st.dictionaries(st.sampled_from(["name", "version", "description", "skills", "hooks", "mcp", "routing"]), values).map(yaml.safe_dump))
def test_pack_manifest_files(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("pack")
    (folder / "pack.yaml").write_text(text, "utf-8")
    loads_or_fails_cleanly(lambda: read_pack(folder))
    plugin = tmp_path_factory.mktemp("plugin")
    (plugin / ".claude-plugin").mkdir()
    (plugin / ".claude-plugin" / "plugin.json").write_text(text, "utf-8")
    loads_or_fails_cleanly(lambda: read_pack(plugin))


def test_yaml_bombs_and_objects_are_refused():
    bomb = "---\na: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, c in zip("abcdefgh", "bcdefghi")) + "---\n"
    for text in (bomb, "---\nname: !!python/object/apply:os.system ['true']\n---\n", "---\na: &a [*a]\n---\n",
                 "---\nx: !!binary aGVsbG8=\n---\n", "---\n" + "k: v\n" * 20000 + "---\n"):
        try:
            parse_frontmatter(text, "f.md")
        except InvalidSkill as exc:
            assert exc.message.startswith("f.md:")
        else:
            raise AssertionError(f"accepted: {text[:60]!r}")
