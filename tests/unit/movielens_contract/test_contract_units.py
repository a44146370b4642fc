"""The suite's parts: clause registry and README in step, redaction, budget, body cap, discovery."""

from __future__ import annotations

import ast
import datetime as dt
import re
import socket
from pathlib import Path

import _catalogue
import pytest
from _contract_variants import Behaviour, make_multi_year_dataset, tiny_dataset

import movielens_contract
from movielens_contract import bad_inputs, clauses
from movielens_contract.client import ApiClient, BudgetExhausted, ContractViolation, Redactor, strip_userinfo
from movielens_contract.discovery import Discovery
from movielens_contract.pages import midnight

SUITE_DIR = Path(movielens_contract.__file__).resolve().parent
REPO_ROOT = Path(__file__).resolve().parents[3]


def _readme_section(name: str) -> str:
    text = (REPO_ROOT / "contracts" / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"<!-- {name}:start -->\n(.*?)\n<!-- {name}:end -->", text, re.S)
    assert match, f"README.md lacks the {name} section"
    return match.group(1)


def test_readme_clause_table_is_the_registry():
    assert _readme_section("clauses") == clauses.markdown_table()


def test_readme_bad_input_table_is_the_suite_table():
    assert _readme_section("bad-inputs") == bad_inputs.markdown_table()


def test_readme_capability_and_catalogue_tables_are_generated():
    assert _readme_section("capabilities") == clauses.capabilities_table()
    assert _readme_section("catalogue") == _catalogue.markdown_table()


def test_levels_and_capabilities_are_declared_only_in_the_registry():
    """No clause marker in the suite restates a level or capability (conftest also refuses them)."""
    restated = []
    for path in sorted(SUITE_DIR.glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and ast.unparse(node.func) == "pytest.mark.clause"
                and node.keywords
            ):
                restated.append(f"{path.name}:{node.lineno}")
    assert restated == []


def _clause_marks() -> dict[str, list[str]]:
    """Test function -> the clause IDs of its markers, read from the suite's source."""
    found: dict[str, list[str]] = {}
    for path in sorted(SUITE_DIR.glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                found[f"{path.name}::{node.name}"] = [
                    d.args[0].value
                    for d in node.decorator_list
                    if isinstance(d, ast.Call)
                    and ast.unparse(d.func) == "pytest.mark.clause"
                    and isinstance(d.args[0], ast.Constant)
                ]
    return found


def test_every_test_has_one_clause_and_every_clause_a_test():
    marks = _clause_marks()
    assert all(len(ids) == 1 for ids in marks.values()), {k: v for k, v in marks.items() if len(v) != 1}
    covered = sorted(ids[0] for ids in marks.values())
    assert covered == sorted(clauses.CLAUSES), "one test per clause"
    for name, (clause_id,) in marks.items():
        assert clause_id.lower().replace("-", "_") in name, f"{name} is not named after {clause_id}"


def test_clause_ids_are_stable_and_levels_valid():
    assert all(re.fullmatch(r"[A-Z]+-\d{3}", c.id) for c in clauses.CLAUSES.values())
    assert {c.level for c in clauses.CLAUSES.values()} == {"MUST", "SHOULD"}
    assert clauses.get("page-001").id == "PAGE-001"


def test_redactor_removes_password_basic_header_and_url_userinfo():
    client = ApiClient("http://bob:hunter22@127.0.0.1:9/api/", "bob", "hunter22")
    assert client.base_url == "http://127.0.0.1:9/api"
    header_value = "Ym9iOmh1bnRlcjIy"  # base64("bob:hunter22")
    text = client.redact(f"echo hunter22 and Basic {header_value}")
    assert "hunter22" not in text
    assert header_value not in text
    assert text.count("***") == 2
    assert Redactor(["ab"])("about abba") == "about abba"  # too short to redact blindly
    assert "hunter22" not in repr(client)


def test_client_enforces_its_request_budget(serve):
    client = ApiClient(serve().url, "airflow", "airflow", max_requests=2)
    client.get("/health", cache=False)
    client.get("/health")
    client.get("/health")  # a cached answer costs nothing
    with pytest.raises(BudgetExhausted):
        client.get("/health", cache=False)
    assert client.requests_sent == 2


def test_client_caps_the_body_it_reads(serve):
    client = ApiClient(serve().url, "airflow", "airflow", max_body_bytes=100)
    reply = client.get("/ratings", [("limit", "50")])
    assert reply.truncated
    assert len(reply.content) == 100
    with pytest.raises(ContractViolation, match="size cap"):
        reply.json()


def test_transport_errors_are_short_violations():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = ApiClient(f"http://127.0.0.1:{port}", "u", "secret-password")
    with pytest.raises(ContractViolation) as caught:
        client.get("/ratings")
    assert caught.value.exchanges[0].error == "connection failed: [Errno 111] Connection refused"


def test_discovery_finds_midnights_and_a_small_paging_window(serve):
    client = ApiClient(serve().url, "airflow", "airflow")
    found = Discovery(client, seed=0)
    assert found.overview.total > 200
    assert found.policy.mode == "clamp"
    assert found.policy.max_limit == 1000
    assert len(found.boundaries) == 3
    for boundary in found.boundaries:  # the server splits the listing exactly at each probed midnight
        before = boundary.neighbours.records[boundary.before - boundary.neighbours.offset - 1]
        assert before["timestamp"] < midnight(boundary.day) <= boundary.after_page.records[0]["timestamp"]
    day, record = found.midnight_record
    assert record["timestamp"] == midnight(day)
    window, total = found.paging_window
    assert window.end - window.start == dt.timedelta(days=1)
    assert 4 <= total < 60


def test_discovery_works_on_tiny_and_sparse_data(serve):
    tiny = Discovery(ApiClient(serve(dataset=tiny_dataset()).url, "airflow", "airflow"), seed=0)
    assert tiny.overview.total == 5
    assert [b.day for b in tiny.boundaries] == [dt.date(2020, 2, 29)]
    assert tiny.midnight_record == (
        dt.date(2020, 2, 29),
        {"userId": 2, "movieId": 1, "rating": 5.0, "timestamp": midnight(dt.date(2020, 2, 29))},
    )
    sparse = Discovery(ApiClient(serve(dataset=make_multi_year_dataset()).url, "airflow", "airflow"), seed=0)
    assert sparse.overview.first_day.year == 2017
    assert sparse.overview.last_day.year == 2021
    assert sparse.boundaries
    assert sparse.midnight_record is not None


def test_discovery_reads_a_rejecting_servers_maximum(serve):
    found = Discovery(
        ApiClient(serve(Behaviour(over_max="reject", max_limit=40)).url, "airflow", "airflow"), 0
    )
    assert (found.policy.mode, found.policy.max_limit, found.policy.page_limit) == ("reject", 40, 40)
    rejecting = Behaviour(faults=frozenset({"reject_without_max_limit"}), max_limit=40)
    no_max = Discovery(ApiClient(serve(rejecting).url, "airflow", "airflow"), 0)
    assert (no_max.policy.mode, no_max.policy.max_limit, no_max.policy.page_limit) == ("reject", None, 10)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://bob:hunter22@127.0.0.1:9/api", "http://127.0.0.1:9/api"),
        ("http://bob:hun/ter#22@127.0.0.1:9", "http://127.0.0.1:9"),  # unescaped / and # in the password
        ("http://127.0.0.1:9/ratings?email=a@b", "http://127.0.0.1:9/ratings?email=a@b"),
        ("127.0.0.1:9", "127.0.0.1:9"),
    ],
)
def test_userinfo_is_stripped_even_when_the_password_is_not_url_safe(url, expected):
    assert strip_userinfo(url) == expected
