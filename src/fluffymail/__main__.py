"""`python -m fluffymail` runs the CLI."""

from fluffymail.cli import main

main()
