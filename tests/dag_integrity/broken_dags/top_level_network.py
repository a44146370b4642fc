"""Broken Airflow DAG on purpose (rule ``no_parse_time_io``): asks the API at parse time.

The file even swallows the failure, as DAG files that do this often do; the rule still sees it.
"""

import contextlib
import urllib.request

from fixture_base import DAG, EmptyOperator, good_dag_args

LATEST = None
with contextlib.suppress(Exception):
    LATEST = urllib.request.urlopen("http://127.0.0.1:9/ratings?limit=1", timeout=1).read()

with DAG(dag_id="broken_top_level_network", **good_dag_args()):
    EmptyOperator(task_id="parsed_slowly")
