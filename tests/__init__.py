"""DOS's tests, in folders that mirror the package: core/ (the use cases on fakes), adapters/<room>/ (each adapter on
its real substrate: files, models, store, skills, hooks, mcp, sync), kernel/, gateway/ (`dos serve`), cli/ (the only
folder whose tests drive the real `dos` CLI as a subprocess, through its `dos` fixture), architecture/ (the
import-linter contracts and start-up imports). Helpers shared by several folders are in support/; perf/ and stress/
hold scripts run by hand (`make bench`), not tests."""
