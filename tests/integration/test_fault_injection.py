"""Resilience against the server's seeded fault injection: faults cost retries, never records.

The faulty server (``faulty_movielens_api``) serves the same data as the fault-free one but answers
30% of requests with a 500/503, a 429 with ``Retry-After: 0``, a slow response, a dropped
connection or a truncated body, never more than ``fault_max_streak`` in a row. A hook with more
attempts than that must return exactly what the fault-free server lists. Waits between attempts are
recorded instead of slept, so the tests take no backoff time.
"""

from __future__ import annotations

import pytest

from airflow_movielens.exceptions import MovielensError
from airflow_movielens.hooks import MovielensHook
from airflow_movielens.operators import MovielensFetchRatingsOperator


class Waits(list):
    """The hook's ``sleep``: records each backoff instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def waits() -> Waits:
    return Waits()


@pytest.fixture
def retrying(fault_max_streak, waits) -> dict:
    """Hook parameters that outlast the longest fault streak, with short, recorded backoff."""
    return {
        "max_attempts": fault_max_streak + 2,
        "backoff_base": 0.01,
        "timeout": (5.0, 30.0),
        "sleep": waits,
    }


@pytest.mark.parametrize(
    ("days", "batch_size"),
    [(31, 50), (365, 1000)],  # both well over 50 requests: faults are certain to hit some of them
    ids=["january-by-50", "year-by-1000"],
)
def test_a_window_fetched_under_faults_equals_the_fault_free_listing(
    faulty_movielens_conn, direct_api, ratings_calendar, retrying, waits, days, batch_size
):
    calendar = list(ratings_calendar.counts)
    start, end = calendar[0], ratings_calendar.next_day(calendar[days - 1])
    expected = direct_api.paged_listing(start_date=start, end_date=end)

    with MovielensHook(faulty_movielens_conn, **retrying) as hook:
        fetched = list(hook.get_ratings(start, end, batch_size=batch_size))

    assert fetched == expected
    assert waits, "no fault was injected: the test did not exercise the retries"
    assert all(0 <= w <= 1 for w in waits), f"backoff not bounded by the short settings: {max(waits)}"


def test_movies_fetched_under_faults_equal_the_fault_free_listing(
    faulty_movielens_conn, direct_api, retrying, waits
):
    with MovielensHook(faulty_movielens_conn, **retrying) as hook:
        movies = list(hook.get_movies(batch_size=200))

    assert movies == direct_api.paged_listing("/movies")
    assert waits


def test_has_ratings_under_faults_agrees_with_the_fault_free_server(
    faulty_movielens_conn, movielens_conn, ratings_calendar, retrying
):
    days = [ratings_calendar.busy_day, ratings_calendar.empty_day] * 10
    with MovielensHook(faulty_movielens_conn, **retrying) as faulty, MovielensHook(movielens_conn) as clean:
        answers = [
            (
                faulty.has_ratings(d, ratings_calendar.next_day(d)),
                clean.has_ratings(d, ratings_calendar.next_day(d)),
            )
            for d in days
        ]

    assert all(under_faults == fault_free for under_faults, fault_free in answers)
    assert [a for a, _ in answers] == [True, False] * 10


def test_the_operator_writes_the_same_file_under_faults(
    faulty_movielens_conn, movielens_conn, ratings_calendar, retrying, waits, tmp_path
):
    day = ratings_calendar.busy_day
    end = ratings_calendar.next_day(day)

    def run(conn_id: str, name: str, **hook_params) -> bytes:
        path = tmp_path / name / f"{day}.json"
        MovielensFetchRatingsOperator(
            task_id="fetch",
            conn_id=conn_id,
            output_path=str(path),
            start_date=day,
            end_date=end,
            batch_size=10,
            hook_params=hook_params,
        ).execute(context={})
        return path.read_bytes()

    under_faults = run(faulty_movielens_conn, "faulty", **retrying)
    fault_free = run(movielens_conn, "clean")

    assert under_faults == fault_free
    assert waits


def test_without_retries_the_faults_surface_as_errors(faulty_movielens_conn, ratings_calendar):
    # The control experiment: the same fetch with a single attempt per request fails, with a
    # MovielensError (never a raw requests exception or a silently short listing).
    days = list(ratings_calendar.counts)
    with (
        pytest.raises(MovielensError),
        MovielensHook(faulty_movielens_conn, max_attempts=1, timeout=(5.0, 30.0)) as hook,
    ):
        list(hook.get_ratings(days[0], ratings_calendar.next_day(days[30]), batch_size=50))
