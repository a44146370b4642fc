"""Entry point: ``python -m bench [--quick] [--only ...] [--out DIR]``."""

from .cli import main

raise SystemExit(main())
