"""``python -m corridors.cli``: the ``corridors`` command."""

from corridors.cli import main_exit

main_exit()
