"""`python -m dos.kernel --state DIR [--idle SECONDS]`: run a kernel in the foreground (clients start it), serving
the turns of dos.kernel.turns."""

from dos.kernel.server import main
from dos.kernel.turns import HANDLERS, warm_up

main(HANDLERS, warm_up)
