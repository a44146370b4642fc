"""protocol: the retry waits, the text of a transport failure, and the TLS error behind a failure.

``tls_failure`` finds the TLS error however the HTTP libraries wrapped it. A TLS failure
(untrusted certificate, refused client certificate) is configuration: the hooks fail at once on it
instead of retrying, so it must be found through every way requests, urllib3 and httpx chain
exceptions, and a dropped TLS stream (EOF) must not count.
"""

from __future__ import annotations

import random
import ssl
import warnings

import pytest
import requests
import tenacity

from airflow_movielens import protocol
from airflow_movielens.protocol import (
    RetryPolicy,
    is_transient,
    tls_failure,
    transport_failure_message,
    without_userinfo,
)


def certificate_error() -> ssl.SSLError:
    return ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")


def chained(outer: BaseException, *, cause=None, context=None) -> BaseException:
    outer.__cause__ = cause
    outer.__context__ = context
    return outer


def test_found_as_the_error_itself_its_cause_its_context_or_its_argument():
    tls = certificate_error()
    assert tls_failure(tls) is tls
    assert tls_failure(chained(ConnectionError("x"), cause=tls)) is tls
    assert tls_failure(chained(ConnectionError("x"), context=tls)) is tls
    assert tls_failure(OSError("max retries exceeded", tls)) is tls  # urllib3 wraps it in args


def test_found_several_links_down():
    tls = certificate_error()
    middle = OSError("urllib3 MaxRetryError", tls)
    outer = chained(ConnectionError("requests"), cause=chained(RuntimeError("adapter"), context=middle))
    assert tls_failure(outer) is tls


def test_the_cause_is_followed_before_the_context():
    tls = certificate_error()
    outer = chained(ConnectionError("x"), cause=tls, context=ValueError("unrelated"))
    assert tls_failure(outer) is tls


def test_a_dropped_tls_stream_is_not_a_tls_failure():
    eof = ssl.SSLEOFError(8, "EOF occurred in violation of protocol")
    assert tls_failure(eof) is None
    assert tls_failure(chained(ConnectionError("x"), cause=ssl.SSLZeroReturnError(6, "closed"))) is None
    # retried, unlike a refused certificate
    assert is_transient(chained(requests.ConnectionError("dropped"), cause=eof))
    assert not is_transient(chained(requests.ConnectionError("refused"), cause=certificate_error()))


def test_no_tls_error_anywhere_and_a_cyclic_chain_ends():
    assert tls_failure(ConnectionError("refused")) is None
    a, b = ConnectionError("a"), OSError("b")
    chained(a, context=b)
    chained(b, context=a)  # a cycle: the search must stop, not spin
    assert tls_failure(a) is None
    assert tls_failure(OSError("no nested exception", "text", 3)) is None


# -- retry waits -----------------------------------------------------------------------------------


def backoff_waits(policy: RetryPolicy, attempts: int) -> list[float]:
    """The waits after attempts 1..``attempts`` that failed with a connection error."""
    out = []
    for number in range(1, attempts + 1):
        state = tenacity.RetryCallState(tenacity.Retrying(), None, (), {})
        state.attempt_number = number
        state.set_exception((ConnectionError, ConnectionError("refused"), None))
        out.append(policy.wait(state))
    return out


def tenacity_before_9_1(*, initial: float = 1, max: float = 2**62, exp_base: float = 2, jitter: float = 1):
    """tenacity < 9.1's ``wait_exponential_jitter``: the multiplier is called ``initial``."""
    with warnings.catch_warnings():  # the installed tenacity still takes ``initial``, deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        return tenacity.wait_exponential_jitter(initial=initial, max=max, exp_base=exp_base, jitter=jitter)


@pytest.mark.parametrize("tenacity_version", ["installed", "before 9.1"])
@pytest.mark.parametrize(
    ("jitter_end", "expected"),
    [("least", [0.5, 1.0, 2.0, 3.0, 3.0]), ("most", [1.0, 1.5, 2.5, 3.0, 3.0])],
)
def test_backoff_doubles_from_the_base_plus_up_to_base_of_jitter_under_the_cap(
    monkeypatch, tenacity_version, jitter_end, expected
):
    if tenacity_version == "before 9.1":
        monkeypatch.setattr(protocol, "wait_exponential_jitter", tenacity_before_9_1)
    monkeypatch.setattr(random, "uniform", lambda low, high: low if jitter_end == "least" else high)
    assert backoff_waits(RetryPolicy(backoff_base=0.5, backoff_max=3.0), 5) == expected


# -- transport failures ----------------------------------------------------------------------------


def test_a_transport_failure_without_a_message_shows_its_repr():
    message = transport_failure_message("http://h/ratings", 3, requests.ConnectionError(), (1.0, 2.0))
    assert message == "GET http://h/ratings failed after 3 attempt(s): ConnectionError: ConnectionError()"


@pytest.mark.parametrize(
    ("reason", "shown"),
    [("CERTIFICATE_VERIFY_FAILED", "CERTIFICATE_VERIFY_FAILED"), (None, "SSLCertVerificationError")],
)
def test_a_tls_failure_names_its_reason_and_the_extras_to_check(reason, shown):
    tls = certificate_error()
    tls.reason = reason
    outer = chained(requests.ConnectionError("handshake"), cause=tls)
    assert transport_failure_message("https://h/ratings", 1, outer, (1.0, 2.0)) == (
        f"GET https://h/ratings failed after 1 attempt(s): ConnectionError: TLS failure ({shown}: {tls}); "
        "check the connection's 'verify' (CA bundle), 'cert' and 'key' extras. handshake"
    )


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://user:pw@h:1/ratings?x=1", "http://h:1/ratings?x=1"),
        ("http://user:p@ss@h:1/ratings", "http://h:1/ratings"),  # an unquoted @ in the password
        ("http://h:1/ratings?email=a@b", "http://h:1/ratings?email=a@b"),  # not userinfo
    ],
)
def test_urls_in_messages_lose_their_userinfo(url, shown):
    assert without_userinfo(url) == shown
