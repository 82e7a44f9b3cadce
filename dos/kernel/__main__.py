"""`python -m dos.kernel --state DIR [--idle SECONDS]`: run a kernel in the foreground (clients start it)."""

from dos.kernel.server import main

main()
