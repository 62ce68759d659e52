"""``python -m stance``: the command line."""

from stance.cli import main

raise SystemExit(main())
