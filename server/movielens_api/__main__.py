"""``python -m movielens_api`` runs the ``movielens-api`` command."""

from .cli import main

raise SystemExit(main())
