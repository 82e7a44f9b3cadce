"""Options `dos run` and `dos chat` share: which model, how the route orders and limits it, how it samples, which
tool calls may run."""

from __future__ import annotations

import typer

from dos.cli.complete import model_names

MODEL = typer.Option(None, "--model", "-m", help="Pin a model (exact, no fallback), e.g. local/smollm2.",
                     autocompletion=model_names)
PREFER = typer.Option(None, "--prefer", help="Route order: local-first, cheapest, best, fastest.")
SOVEREIGNTY = typer.Option(None, "--sovereignty", help="Allowed classes, e.g. local,eu (only narrows the skill's).")
MAX_TOKENS = typer.Option(None, "--max-tokens", min=1, help="Most tokens per answer.")
TEMPERATURE = typer.Option(None, "--temperature", min=0.0, max=2.0, help="Sampling temperature.")
NO_MEMORY = typer.Option(False, "--no-memory", help="Do not offer past events to the model.")
ALLOW = typer.Option(None, "--allow", metavar="RULE",
                     help="Let tool calls matching RULE run without asking, for this run (repeatable), in Claude "
                          "Code's rule format, e.g. 'Bash(pytest *)', Read, 'Edit(src/**)', mcp__time.")
PERMISSION_MODE = typer.Option(None, "--permission-mode", metavar="MODE",
                               help="default, acceptEdits (edits in this folder run), plan (only reads), dontAsk "
                                    "(what would ask is denied), bypassPermissions (all but deny/ask rules run).")
