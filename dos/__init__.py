"""DOS: a local-first personal AI OS for the terminal."""

__version__ = "0.1.0"
