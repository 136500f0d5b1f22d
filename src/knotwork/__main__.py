"""``python -m knotwork`` runs the command line."""

from knotwork.cli import main

main()
