"""The warm kernel: one background process per user (per DOS_HOME) that keeps LiteLLM imported and the
embedded model loaded, and runs `dos run` for thin clients over a Unix socket."""
