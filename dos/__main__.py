"""`python -m dos` runs the CLI."""

from dos.cli.entry import main

if __name__ == "__main__":
    main()
