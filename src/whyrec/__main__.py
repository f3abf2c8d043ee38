"""``python -m whyrec`` runs the command line, as ``whyrec`` and ``python -m whyrec.cli`` do."""

from whyrec.cli import main

main()
