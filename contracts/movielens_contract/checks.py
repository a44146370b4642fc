"""Small assertion helpers that keep the exchange showing a violation, and count what they checked.

Every check made through :func:`expect`, :func:`fail` or :class:`Findings` is counted in
:data:`made`; the pytest plugin reports a clause whose test passed without making a single check
as N/A ("found nothing to check"), never as a pass.
"""

from __future__ import annotations

from typing import Any, NoReturn

from . import spec
from .client import ContractViolation, Exchange, Reply


class CheckCounter:
    """How many checks the running clause test has made."""

    def __init__(self) -> None:
        self.count = 0

    def reset(self) -> None:
        self.count = 0

    def tick(self) -> None:
        self.count += 1


made = CheckCounter()


def fail(message: str, *exchanges: Exchange | None) -> NoReturn:
    made.tick()
    raise ContractViolation(message, *exchanges)


def expect(condition: object, message: str, *exchanges: Exchange | None) -> None:
    made.tick()
    if not condition:
        raise ContractViolation(message, *exchanges)


class Findings:
    """Collects every violation of a clause in one test, then fails with all of them.

    Clauses checked over a table (bad inputs, several windows) report every failing row, with the
    exchange of the first one.
    """

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.exchanges: list[Exchange] = []

    def add(self, message: str, *exchanges: Exchange | None) -> None:
        made.tick()
        self.messages.append(message)
        self.exchanges.extend(e for e in exchanges if e is not None)

    def check(self, condition: object, message: str, *exchanges: Exchange | None) -> bool:
        if not condition:
            self.add(message, *exchanges)
        else:
            made.tick()
        return bool(condition)

    def held(self) -> None:
        """Count a check that held where there is no condition left to test (an accepted answer)."""
        made.tick()

    def violation(self, exc: ContractViolation) -> None:
        self.add(exc.message, *exc.exchanges)

    def raise_any(self) -> None:
        if self.messages:
            extra = (
                f" (and {len(self.messages) - 1} more: {'; '.join(self.messages[1:4])})"
                if len(self.messages) > 1
                else ""
            )
            raise ContractViolation(self.messages[0] + extra, *self.exchanges[:3])


def error_body_problems(reply: Reply) -> list[str]:
    """Why an error answer is not a JSON object with an ``error`` string (empty when it is)."""
    try:
        body: Any = reply.json()
    except ContractViolation:
        return [f"the body is not JSON (Content-Type {reply.content_type or 'missing'})"]
    return spec.errors(spec.component("Error"), body)


def names_parameter(reply: Reply, names: tuple[str, ...]) -> bool:
    """Whether an error body names one of ``names`` in ``parameter`` or in its ``error`` text."""
    try:
        body = reply.json()
    except ContractViolation:
        return False
    if not isinstance(body, dict):
        return False
    parameter = body.get("parameter")
    text = str(body.get("error", ""))
    return any(parameter == n or n in text for n in names)
