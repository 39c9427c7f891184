"""``python -m scelle`` is the ``scelle`` command."""

from scelle.cli.app import main

main()
