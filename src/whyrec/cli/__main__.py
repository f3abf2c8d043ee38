"""``python -m whyrec.cli`` (and ``torchrun ... -m whyrec.cli``) runs the command line."""

from whyrec.cli import main

main()
