"""`dos serve`: an OpenAI-compatible HTTP gateway in front of the router (an entry point, like dos.cli)."""
