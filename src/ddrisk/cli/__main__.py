"""``python -m ddrisk.cli``: the same command line as the ``ddrisk`` script."""

from ddrisk.cli import main

if __name__ == "__main__":
    main(prog_name="ddrisk")
