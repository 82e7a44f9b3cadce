"""`dos sync ...`: keep copies of DOS's skills in other harnesses' folders in step (issue 11).

`dos sync [TARGET...]` is `dos sync push [TARGET...]`: a group whose first word, if it is not a command, is a
target name."""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import Any, Optional

import typer
from typer.core import TyperGroup

from dos.bootstrap import build
from dos.cli.output import console, on_terminal, print_json, progress

HELP = """Copies of your skills in Claude Code, Codex, Gemini CLI, folders and git, kept in step.

dos sync [TARGET...] [-n] [--force] [-w] [--json]   write targets (= push)
dos sync status [TARGET...]   in step / behind / drifted / both
dos sync pull TARGET SKILL    take a target's edit back into the source
dos sync targets              targets in sync.yaml, and the presets

A file edited in a target is never overwritten silently: it is reported and skipped unless --force."""


class DefaultToPush(TyperGroup):
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["push", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(help=HELP, cls=DefaultToPush, no_args_is_help=False)
JSON = typer.Option(False, "--json", help="Print JSON instead of text.")
TARGETS = typer.Argument(None, help="Target names (sync.yaml or presets); every configured target if none.")

VERBS = {"write": "write ", "remove": "remove", "skip": "skip  "}
WHY = {"new": "new", "behind": "changed in the source", "deleted": "deleted from the source",
       "drifted": "restores the source copy", "both": "overwrites the target's edit", "untracked": "overwrites",
       "kept": "removes the target's edit"}


def _out(line: str, style: str | None = None) -> None:
    if on_terminal() and style:
        from rich.markup import escape

        console().print(f"[{style}]{escape(line)}[/]", soft_wrap=True)
    else:
        sys.stdout.write(line + "\n")


def _err(line: str) -> None:
    sys.stderr.write(f"dos: {line}\n")
    sys.stderr.flush()


def _file_lines(report: Any, plans: list[Any], dry_run: bool) -> None:
    from dos.core.skills.sync import WRITE, explain

    for p in plans:
        if p in report.skips:
            _out(f"  skip   {p.path}: {explain(p, report.spec.name)}", "yellow")
        elif dry_run or p.path in report.done:
            why = WHY.get(p.state, p.state)
            _out(f"  {VERBS[p.action]} {p.path} ({why})", "green" if p.action == WRITE else "red")


def _summary(report: Any, dry_run: bool) -> str:
    counts: Counter[str] = Counter()
    for p in report.plans:
        if p in report.skips:
            counts["skipped"] += 1
        elif p.action == "write" and (dry_run or p.path in report.done):
            counts["to write" if dry_run else "written"] += 1
        elif p.action == "remove" and (dry_run or p.path in report.done):
            counts["to remove" if dry_run else "removed"] += 1
        elif p.action == "none" and p.source is not None:
            counts["in step"] += 1
    parts = ", ".join(f"{n} {what}" for what, n in counts.items()) or "nothing to sync"
    return f"{report.spec.name}: {parts} ({report.path})"


def _render(reports: list[Any], dry_run: bool) -> list[Any]:
    """Print each target's outcome; return the failed ones."""
    failed = []
    for note in dict.fromkeys(w for r in reports for w in r.warnings):  # each once, whichever targets it concerns
        _err(note)
    for r in reports:
        if r.error:
            _err(f"{r.spec.name}: cannot sync: {r.error}")
            failed.append(r)
            if not r.done:
                continue
        _out(_summary(r, dry_run), "bold")
        _file_lines(r, [p for p in r.plans if p.action != "none" or p in r.skips], dry_run)
        for note in r.notes:
            _err(f"{r.spec.name}: {note}")
        if dry_run and r.diffs:
            sys.stdout.write("".join(r.diffs))
    return failed


def _fail_if(failed: list[Any], total: int) -> None:
    if failed:
        from dos.core.errors import SyncFailed

        names = ", ".join(r.spec.name for r in failed)
        raise SyncFailed(f"{len(failed)} of {total} targets failed ({names}); the others were synced")


@app.command("push")
def push(targets: Optional[list[str]] = TARGETS,
         dry_run: bool = typer.Option(False, "--dry-run", "-n", help="Print the diff it would make; write nothing."),
         force: bool = typer.Option(False, "--force", help="Overwrite (or remove) files edited in a target."),
         watch: bool = typer.Option(False, "--watch", "-w", help="Stay on: re-sync on every change (Ctrl-C stops)."),
         json_out: bool = JSON) -> None:
    """Write each target from the source (the default: dos sync = dos sync push).  Example: dos sync claude --dry-run"""
    sync = build().sync
    if watch:
        from dos.core.errors import UsageError

        if dry_run:
            raise UsageError("--watch writes; it cannot be combined with --dry-run")
        _watch(sync, targets or [], force, json_out)
        return
    with progress("syncing skills"):
        reports = sync.sync(targets or [], dry_run=dry_run, force=force)
    if json_out:
        print_json({"dry_run": dry_run, "targets": [r.as_dict() for r in reports]})
        _fail_if([r for r in reports if r.error], len(reports))
        return
    _fail_if(_render(reports, dry_run), len(reports))


def _watch(sync: Any, targets: list[str], force: bool, json_out: bool) -> None:
    state: dict[str, Any] = {"first": True, "skips": {}}

    def on_round(reports: list[Any]) -> None:
        first = state["first"]
        state["first"] = False
        for r in reports:
            skips = {p.path for p in r.skips}
            new_skips = skips - state["skips"].get(r.spec.name, set())
            state["skips"][r.spec.name] = skips
            if not first and not r.done and not new_skips and not r.error:
                continue
            if json_out:
                sys.stdout.write(__import__("json").dumps(r.as_dict(), ensure_ascii=False) + "\n")
            elif first:
                _render([r], False)
            elif r.error:
                _err(f"{r.spec.name}: cannot sync: {r.error}")
            else:
                _out(f"{time.strftime('%H:%M:%S')} {_summary(r, False)}", "bold")
                _file_lines(r, [p for p in r.plans if p.path in r.done or p.path in new_skips], False)
        sys.stdout.flush()

    def on_ready(folders: list[Any]) -> None:
        _err(f"watching {len(folders)} folders; Ctrl-C stops")

    sync.watch(targets, force, on_round, on_ready=on_ready)


@app.command("status")
def status(targets: Optional[list[str]] = TARGETS, json_out: bool = JSON) -> None:
    """Per target and skill: in step, behind (source changed), drifted (target edited), both.  Example: dos sync status"""
    reports = build().sync.status(targets or [])
    if json_out:
        print_json({"targets": [r.as_dict() for r in reports]})
        _fail_if([r for r in reports if r.error], len(reports))
        return
    styles = {"in step": "green", "behind": "cyan", "drifted": "yellow", "both": "red", "failed": "red"}
    failed = []
    for r in reports:
        if r.error:
            _err(f"{r.spec.name}: cannot read: {r.error}")
            failed.append(r)
            continue
        counts = Counter(r.skills.values())
        detail = ", ".join(f"{n} {s}" for s, n in counts.items()) or "no skills"
        _out(f"{r.spec.name}: {r.status} ({detail}) {r.path}", styles.get(r.status))
        for skill, st in r.skills.items():
            if st != "in step":
                _out(f"  {skill}: {st}", styles.get(st))
    _fail_if(failed, len(reports))


@app.command("pull")
def pull(target: str = typer.Argument(..., help="The target holding the edit."),
         skill: str = typer.Argument(..., help="The skill to take back."), json_out: bool = JSON) -> None:
    """Take a target's copy of a skill back into the source.  Example: dos sync pull claude summarize"""
    r = build().sync.pull(target, skill)
    if json_out:
        print_json({"target": r.target, "skill": r.skill, "into": str(r.into), "source": r.source_label,
                    "copied_to_user_folder": r.copied, "written": r.written, "removed": r.removed})
        return
    _out(f"pulled {r.skill} from {r.target} into {r.into}: {len(r.written)} written, {len(r.removed)} removed")
    if r.copied and r.source_label != "none":
        _out(f"note: {r.skill} came from {r.source_label}, which dos does not edit; your copy in {r.into} "
             f"now shadows it (delete that folder to go back)")
    _out("run `dos sync` to bring the other targets in step")


@app.command("targets")
def targets_cmd(json_out: bool = JSON) -> None:
    """Configured targets (sync.yaml) and built-in presets.  Example: dos sync targets"""
    sync = build().sync
    rows = [{**t.as_dict(), "resolved": str(sync.path_of(t))} for t in sync.available()]
    if json_out:
        print_json({"config": str(sync.config_file), "targets": rows})
        return
    for t in rows:
        where = "preset" if t["preset"] else "sync.yaml"
        picks = []
        if t["packs"]:
            picks.append("packs " + ",".join(t["packs"]))
        if t["skills"] != ["*"]:
            picks.append("skills " + ",".join(t["skills"]))
        if t["exclude"]:
            picks.append("not " + ",".join(t["exclude"]))
        what = "; ".join(picks) or "all skills"
        note = f"  ({t['note']})" if t["note"] else ""
        _out(f"{t['name']:<15} {t['kind']:<7} {where:<9} {t['resolved']}  {what}{note}")
    if not sync.config_file.is_file():
        _out(f"no {sync.config_file} yet: presets can be named directly (dos sync claude); see docs/sync.md")
