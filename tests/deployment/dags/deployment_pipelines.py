"""The example pipeline's tasks on the deployment tier's other reference servers, with short waits.

``05_pipeline`` (the example, copied unchanged into every component's DAGs folder) covers the
backfill and the rerun; its ten-minute poke interval and five-minute retry delay are right for a
real deployment but too long for a test, and it has one connection. These DAGs build the same
sensor -> fetch (-> rank) chain with the same operators and output layout (``data_path``):

* ``deployment_live``: on ``movielens_live``, a reference server in live mode whose ratings appear
  while the deferred sensor waits in the triggerer (checks every 2 s);
* ``deployment_slow``: on ``movielens_slow``, a reference server whose every answer is slow and whose
  pages are small, so a fetch lasts long enough to kill its worker midway; retried after 2 s on the
  other worker. No ranking: its title lookup would page through every movie at that pace.
"""

from __future__ import annotations

import datetime as dt

from airflow_movielens.operators import MovielensFetchRatingsOperator, MovielensRankMoviesOperator
from airflow_movielens.sensors import MovielensRatingsSensor
from movielens_common import DAG, START_DATE, TAGS, daily_utc, data_path


def pipeline(dag_id: str, conn_id: str, *, rank: bool) -> DAG:
    with DAG(
        dag_id=dag_id,
        start_date=START_DATE,
        schedule=daily_utc(),
        catchup=False,
        default_args={"owner": "movielens", "retries": 2, "retry_delay": dt.timedelta(seconds=2)},
        tags=[*TAGS, "deployment"],
    ) as dag:
        ratings_path = data_path(dag_id, "ratings", "json")
        wait = MovielensRatingsSensor(
            task_id="wait_for_ratings",
            conn_id=conn_id,
            deferrable=True,
            poke_interval=dt.timedelta(seconds=2),
            timeout=dt.timedelta(minutes=5),
        )
        fetch = MovielensFetchRatingsOperator(
            task_id="fetch_ratings", conn_id=conn_id, output_path=ratings_path
        )
        wait >> fetch
        if rank:
            fetch >> MovielensRankMoviesOperator(
                task_id="rank_movies",
                conn_id=conn_id,
                input_path=ratings_path,
                output_path=data_path(dag_id, "rankings", "csv"),
                min_ratings=2,
            )
    return dag


pipeline("deployment_live", "movielens_live", rank=True)
pipeline("deployment_slow", "movielens_slow", rank=False)
