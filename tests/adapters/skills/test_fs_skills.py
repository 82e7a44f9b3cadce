"""Skills read from folders: a bad setting a skill inherits from its pack names the line of pack.yaml."""

from __future__ import annotations

import pytest

from dos.adapters.skills.fs_skills import FolderSkills
from dos.core.errors import InvalidSkill
from dos.core.skills.rules import Pack
from tests.support.skillfiles import write_pack


def test_a_bad_setting_inherited_from_a_pack_points_at_pack_yaml(tmp_path):
    """Packs are validated when read; should a bad default still reach a skill, the error names pack.yaml."""
    folder = write_pack(tmp_path, "p", ("alpha",), "routing:\n  max_tokens: 0\n")

    class Store:
        def enabled(self):
            return [Pack("p", "1", "d", str(folder), routing={"max_tokens": 0})]

    with pytest.raises(InvalidSkill) as err:
        FolderSkills([], Store()).get("alpha")
    assert err.value.message == f"{folder}/pack.yaml:6: 'metadata.dos.max_tokens' must be a whole number of at least 1"
