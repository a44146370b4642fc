"""Query-parameter rules of the contract, checked on the parser directly."""

from __future__ import annotations

import pytest

from movielens_api.params import (
    MAX_SAFE_INTEGER,
    ParameterError,
    parse_count,
    parse_date,
    parse_page,
    parse_window,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1970-01-01", 0),
        ("2019-01-01", 1_546_300_800),
        ("2020-02-29", 1_582_934_400),
        ("1969-12-31", -86_400),
        ("9999-12-31", 253_402_214_400),
    ],
)
def test_dates_are_midnight_utc(text, expected):
    assert parse_date("start_date", text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2019-02-30", "2019-02-29", "2019-13-01", "2019-00-10", "2019-01-32", "0000-01-01",
        "2019-1-1", "20190101", "2019/01/01", "19-01-01", "2019-01-01T00:00:00", "2019-01-01 ",
        " 2019-01-01", "2019-01-01Z", "2019-W01-1", "today",
        "\uff12\uff10\uff11\uff19-01-01", "2019-01-0\uff11",
    ],
)  # fmt: skip
def test_bad_dates_name_the_parameter(text):
    with pytest.raises(ParameterError) as info:
        parse_date("end_date", text)
    assert info.value.parameter == "end_date"
    assert "end_date" in info.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", 0), ("7", 7), ("007", 7), (str(MAX_SAFE_INTEGER), MAX_SAFE_INTEGER), ("0" * 40 + "5", 5)],
)
def test_counts_accept_plain_digits(text, expected):
    assert parse_count("offset", text, minimum=0) == expected


@pytest.mark.parametrize(
    "text",
    [
        "abc", "-1", "+5", " 5", "5 ", "1.5", "1e3", "0x10", "1_000", "\u0663", "\uff15",
        str(MAX_SAFE_INTEGER + 1), "9" * 30, "1" + "0" * 5000,
    ],
)  # fmt: skip
def test_bad_counts_name_the_parameter(text):
    with pytest.raises(ParameterError) as info:
        parse_count("limit", text, minimum=1)
    assert info.value.parameter == "limit"
    assert "limit" in info.value.message
    assert len(info.value.message) < 200  # a 5000-digit input is not echoed back whole


def test_count_below_minimum():
    with pytest.raises(ParameterError, match="at least 1"):
        parse_count("limit", "0", minimum=1)


def test_window_defaults_and_order():
    assert parse_window({}) == (None, None)
    assert parse_window({"start_date": ["2019-01-02"]}) == (1_546_387_200, None)
    assert parse_window({"start_date": ["2019-01-02"], "end_date": ["2019-01-02"]}) == (1_546_387_200,) * 2
    with pytest.raises(ParameterError) as info:
        parse_window({"start_date": ["2019-01-03"], "end_date": ["2019-01-02"]})
    assert info.value.parameter == "start_date"
    assert "end_date" in info.value.message


@pytest.mark.parametrize("name", ["start_date", "end_date", "offset", "limit"])
def test_repeated_and_empty_parameters(name):
    value = "2019-01-01" if name.endswith("date") else "1"
    parse = parse_window if name.endswith("date") else lambda args: parse_page(args, max_limit=10)
    with pytest.raises(ParameterError, match=f"{name} is given 2 times") as info:
        parse({name: [value, value]})
    assert info.value.parameter == name
    with pytest.raises(ParameterError, match=f"{name} is empty") as info:
        parse({name: [""]})
    assert info.value.parameter == name


def test_page_defaults_and_clamp():
    page = parse_page({}, max_limit=10_000, over_max="clamp")
    assert (page.offset, page.limit) == (0, 100)
    assert parse_page({}, max_limit=30, over_max="clamp").limit == 30
    assert parse_page({"limit": ["50000"]}, max_limit=10_000, over_max="clamp").limit == 10_000
    assert parse_page({"limit": [str(MAX_SAFE_INTEGER)]}, max_limit=7, over_max="clamp").limit == 7
    assert parse_page({"offset": [str(MAX_SAFE_INTEGER)]}, max_limit=7).offset == MAX_SAFE_INTEGER


def test_over_maximum_limit_is_rejected_by_default():
    assert parse_page({}, max_limit=30).limit == 30  # the default page shrinks, never fails
    assert parse_page({"limit": ["7"]}, max_limit=7).limit == 7
    with pytest.raises(ParameterError) as info:
        parse_page({"limit": ["8"]}, max_limit=7)
    assert info.value.body() == {"error": info.value.message, "parameter": "limit", "max_limit": 7}
    assert "at most 7" in info.value.message


def test_an_unknown_over_maximum_mode_is_a_programming_error():
    with pytest.raises(ValueError, match="over_max"):
        parse_page({}, max_limit=7, over_max="truncate")


def test_limit_errors_carry_max_limit():
    with pytest.raises(ParameterError) as info:
        parse_page({"limit": ["0"]}, max_limit=250)
    assert info.value.body() == {"error": info.value.message, "parameter": "limit", "max_limit": 250}
