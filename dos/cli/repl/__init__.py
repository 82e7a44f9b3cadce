"""`dos chat`: the interactive REPL (prompt-toolkit + rich) and its piped twin.

session.py   one chat session of many turns: skill, model, totals, transcript, hooks, reload
commands.py  slash commands (shared by the terminal and the piped mode)
completion.py, toolbar.py, render.py, clipboard.py, watch.py   the pieces of the terminal UI
terminal.py  the prompt-toolkit loop;  piped.py  `dos chat < script.txt`
"""
