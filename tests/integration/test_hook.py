"""MovielensHook against the running reference server: what it fetches is exactly what the API lists."""

from __future__ import annotations

import pytest

from airflow_movielens.exceptions import MovielensAPIError
from airflow_movielens.hooks import MovielensHook


@pytest.mark.parametrize("batch_size", [1, 7, 100, 20_000])
def test_a_days_ratings_equal_the_single_request_listing(
    movielens_conn, direct_api, ratings_calendar, batch_size
):
    day = ratings_calendar.busy_day
    end = ratings_calendar.next_day(day)
    expected = direct_api.single_listing(start_date=day, end_date=end)

    with MovielensHook(movielens_conn) as hook:
        fetched = list(hook.get_ratings(day, end, batch_size=batch_size))

    assert len(expected) == ratings_calendar.counts[day]
    assert fetched == expected


def test_a_multi_day_window_is_the_union_of_its_days(movielens_conn, ratings_calendar):
    days = list(ratings_calendar.counts)[:10]
    with MovielensHook(movielens_conn) as hook:
        window = list(hook.get_ratings(days[0], ratings_calendar.next_day(days[-1]), batch_size=250))
        by_day = [record for day in days for record in hook.get_ratings(day, ratings_calendar.next_day(day))]

    assert len(window) == sum(ratings_calendar.counts[day] for day in days)
    assert window == by_day


def test_the_whole_year_beyond_the_servers_page_cap(movielens_conn, direct_api):
    # batch_size above the server's maximum page size: the server rejects it with max_limit and the
    # hook must page by that instead.
    expected = direct_api.paged_listing(start_date="2019-01-01", end_date="2020-01-01")

    with MovielensHook(movielens_conn) as hook:
        pages = list(hook.iter_ratings_pages("2019-01-01", "2020-01-01", batch_size=50_000))

    assert [record for page in pages for record in page.records] == expected
    assert [page.offset for page in pages] == [
        sum(len(p.records) for p in pages[:i]) for i in range(len(pages))
    ]
    assert {page.total for page in pages} == {len(expected)}


def test_an_empty_day_yields_nothing(movielens_conn, ratings_calendar):
    day = ratings_calendar.empty_day
    with MovielensHook(movielens_conn) as hook:
        assert list(hook.get_ratings(day, ratings_calendar.next_day(day))) == []
        assert hook.has_ratings(day, ratings_calendar.next_day(day)) is False


def test_has_ratings_on_a_busy_day(movielens_conn, ratings_calendar):
    day = ratings_calendar.busy_day
    with MovielensHook(movielens_conn) as hook:
        assert hook.has_ratings(day, ratings_calendar.next_day(day)) is True


def test_movies_equal_the_direct_listing(movielens_conn, direct_api):
    expected = direct_api.paged_listing("/movies")

    with MovielensHook(movielens_conn) as hook:
        movies = list(hook.get_movies(batch_size=999))

    assert movies == expected
    assert len(movies) == direct_api.total("/movies")


def test_connection_check_reports_the_available_ratings(movielens_conn, direct_api):
    ok, message = MovielensHook(movielens_conn).test_connection()

    assert ok is True
    assert str(direct_api.total()) in message


def test_wrong_password_fails_with_401_and_never_shows_the_password(wrong_password_conn):
    secret = wrong_password_conn.password

    with (
        pytest.raises(MovielensAPIError) as excinfo,
        MovielensHook(wrong_password_conn.conn_id, max_attempts=3) as hook,
    ):
        list(hook.get_ratings("2019-01-01", "2019-01-02"))
    ok, message = MovielensHook(wrong_password_conn.conn_id).test_connection()

    assert excinfo.value.status_code == 401
    assert secret not in str(excinfo.value)
    assert ok is False
    assert "401" in message
    assert secret not in message
