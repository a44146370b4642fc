"""Provider registration: entry point, provider-info schema, connection type and form in ProvidersManager."""

from __future__ import annotations

import importlib.metadata
import json
import warnings
from pathlib import Path

import airflow
import jsonschema
import pytest

import airflow_movielens
from airflow_movielens import get_provider_info
from airflow_movielens.compat import AIRFLOW_LINE


def test_entry_point_loads_provider_info():
    entry_points = importlib.metadata.entry_points(group="apache_airflow_provider")
    ours = [ep for ep in entry_points if ep.value == "airflow_movielens:get_provider_info"]
    assert len(ours) == 1
    info = ours[0].load()()
    assert info["package-name"] == "airflow-movielens"
    assert info == get_provider_info()


def test_provider_info_matches_airflow_schema():
    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)


@pytest.mark.parametrize("module", ["hooks", "operators", "sensors", "triggers"])
def test_listed_modules_import(module):
    info = get_provider_info()
    modules = [m for entry in info[module] for m in entry["python-modules"]]
    for name in modules:
        importlib.import_module(name)


def test_providers_manager_knows_the_movielens_connection_type():
    from airflow.providers_manager import ProvidersManager

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        manager = ProvidersManager()
        assert "airflow-movielens" in manager.providers
        if AIRFLOW_LINE >= (3, 2):  # hooks moved to the task SDK's runtime manager in Airflow 3.2
            from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

            hook = ProvidersManagerTaskRuntime().hooks["movielens"]
        else:
            hook = manager.hooks["movielens"]
        behaviours = manager.field_behaviours
    assert hook is not None
    assert hook.hook_class_name == "airflow_movielens.hooks.MovielensHook"
    assert hook.connection_id_attribute_name == "conn_id"
    assert hook.hook_name == "MovieLens"
    form = behaviours["movielens"]
    assert form["hidden_fields"] == ["extra"]
    assert form["placeholders"]["host"] == "movielens"
    assert form["placeholders"]["port"] == "5000"
    assert form["placeholders"]["schema"] == "http"
    assert form["placeholders"]["login"] == "airflow"
    package_dir = str(Path(airflow_movielens.__file__).parent)
    ours = [w for w in caught if "movielens" in str(w.message).lower() or w.filename.startswith(package_dir)]
    assert ours == [], [str(w.message) for w in ours]


def test_provider_info_structure_is_what_airflow_reads():
    """Every key Airflow reads is spelled right and consistent with the package and the hook."""
    from airflow_movielens.hooks import MovielensHook

    info = get_provider_info()
    assert set(info) == {
        "package-name",
        "name",
        "description",
        "versions",
        "integrations",
        "hooks",
        "operators",
        "sensors",
        "triggers",
        "connection-types",
    }
    distribution = importlib.metadata.packages_distributions()["airflow_movielens"]
    assert info["package-name"] in distribution
    assert info["versions"] == [importlib.metadata.version(info["package-name"])]
    assert info["name"] == MovielensHook.hook_name == "MovieLens"
    assert info["description"] == (
        "Hook, operators, sensor and deferrable trigger for the MovieLens ratings API."
    )
    assert info["integrations"] == [
        {
            "integration-name": info["name"],
            "external-doc-url": "https://grouplens.org/datasets/movielens/",
            "tags": ["service"],
        }
    ]
    assert info["integrations"][0]["external-doc-url"].startswith("https://")
    for kind in ("hooks", "operators", "sensors", "triggers"):
        assert info[kind] == [
            {"integration-name": info["name"], "python-modules": [f"airflow_movielens.{kind}"]}
        ]
    assert info["connection-types"] == [
        {
            "hook-class-name": f"{MovielensHook.__module__}.{MovielensHook.__qualname__}",
            "connection-type": MovielensHook.conn_type,
            "hook-name": MovielensHook.hook_name,
            "ui-field-behaviour": airflow_movielens.CONNECTION_UI_FIELD_BEHAVIOUR,
            "conn-fields": {
                name: {
                    "label": spec["label"],
                    "description": spec["description"],
                    "schema": {"type": ["string", "null"]},
                }
                for name, spec in airflow_movielens.CONNECTION_FORM_FIELDS.items()
            },
        }
    ]
    assert MovielensHook.conn_type == "movielens"
    assert set(airflow_movielens.CONNECTION_FORM_FIELDS) == {"verify", "cert", "key", "headers"}


def test_connection_form_offers_the_extras():
    """The form shows a field per extra: Airflow 3 from conn-fields, 2.11 from the hook's widgets."""
    from airflow.providers_manager import ProvidersManager

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        widgets = ProvidersManager().connection_form_widgets
    labels = {}
    for name, spec in airflow_movielens.CONNECTION_FORM_FIELDS.items():
        widget = widgets[f"extra__movielens__{name}"]
        # Airflow 3 records the dotted path from conn-fields, 2.11 the class name of the hook it asked
        assert widget.hook_class_name.rpartition(".")[2] == "MovielensHook"
        assert not widget.is_sensitive
        # 3.2+ hold the conn-fields JSON schema; 3.0, 3.1 and 2.11 the hook's (unbound) wtforms field
        labels[name] = (
            widget.field["schema"]["title"] if AIRFLOW_LINE >= (3, 2) else str(widget.field.args[0])
        )
        assert labels[name] == spec["label"]
    assert "TLS" in labels["verify"]
    package_dir = str(Path(airflow_movielens.__file__).parent)
    ours = [w for w in caught if "movielens" in str(w.message).lower() or w.filename.startswith(package_dir)]
    assert ours == [], [str(w.message) for w in ours]


def test_the_hooks_form_fields_carry_each_extras_label_and_description():
    """The wtforms fields older webservers (2.11, 3.0, 3.1) render for the extras."""
    pytest.importorskip("wtforms", reason="only a webserver has wtforms (unit-af211/af30/af31, mutation)")
    import importlib.util

    from airflow_movielens.hooks import MovielensHook

    fields = MovielensHook.get_connection_form_widgets()
    assert set(fields) == set(airflow_movielens.CONNECTION_FORM_FIELDS)
    with_fab = importlib.util.find_spec("flask_appbuilder") is not None
    for name, spec in airflow_movielens.CONNECTION_FORM_FIELDS.items():
        field = fields[name]  # unbound: the form binds it
        assert field.args == (spec["label"],)
        assert field.kwargs["description"] == spec["description"]
        if with_fab:  # the text box Airflow 2.11's own providers use
            from flask_appbuilder.fieldwidgets import BS3TextFieldWidget

            assert isinstance(field.kwargs["widget"], BS3TextFieldWidget)
        else:  # wtforms' default widget
            assert "widget" not in field.kwargs


def test_ui_field_behaviour_is_the_same_on_both_lines():
    """Airflow 3 reads the provider info, Airflow 2.11 the hook method: both describe one form."""
    from airflow_movielens.hooks import MovielensHook

    spec = get_provider_info()["connection-types"][0]["ui-field-behaviour"]
    assert set(spec) == {"hidden-fields", "relabeling", "placeholders"}
    assert MovielensHook.get_ui_field_behaviour() == {
        "hidden_fields": spec["hidden-fields"],
        "relabeling": spec["relabeling"],
        "placeholders": spec["placeholders"],
    }
