"""Helpers shared by the tests of every folder: fakes, files they write, processes they drive."""

from pathlib import Path

SUPPORT = Path(__file__).resolve().parent  # where the helper scripts live (mcp_fixture_server.py, crashy/)
