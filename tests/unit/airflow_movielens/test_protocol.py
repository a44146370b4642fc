"""protocol.tls_failure: the TLS error behind a failure, however the HTTP libraries wrapped it.

A TLS failure (untrusted certificate, refused client certificate) is configuration: the hooks fail
at once on it instead of retrying, so it must be found through every way requests, urllib3 and
httpx chain exceptions, and a dropped TLS stream (EOF) must not count.
"""

from __future__ import annotations

import ssl

import requests

from airflow_movielens.protocol import is_transient, tls_failure


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
