"""Reference server for the MovieLens ratings API (the contract: ``movielens_api/openapi.yaml``).

* ``movielens-api serve [--data DIR]``: gunicorn with threaded workers over a columnar, sorted copy
  of the ratings (:mod:`movielens_api.store`); without ``--data`` it serves a deterministic
  generated sample (:mod:`movielens_api.sample`). Credentials: ``API_USER``/``API_PASSWORD``.
* ``movielens-api generate --out DIR``: the sample as MovieLens ``ratings.csv``/``movies.csv``.
* :func:`movielens_api.app.create_app` builds the WSGI app for in-process tests; seeded fault
  injection for client resilience tests lives in :mod:`movielens_api.faults`.
* ``serve --live-start ISO8601 [--live-speed X]``: live mode (:mod:`movielens_api.live`), only the
  ratings before a virtual now that advances with time are served.
"""
