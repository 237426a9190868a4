"""``python -m ismap_scan``: the same as the ``ismap-scan`` command."""

from .cli import main

main()
