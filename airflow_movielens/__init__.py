"""Apache Airflow provider for the MovieLens ratings API.

Airflow discovers the provider through the ``apache_airflow_provider`` entry point, which calls
:func:`get_provider_info`; the hook, operators, sensor and trigger live in one module per kind.
"""

from __future__ import annotations

from typing import Any

__version__ = "2.0.0"

# Connection form of the ``movielens`` type. Airflow 3 reads it from the provider info below (without
# importing the hook); Airflow 2.11 asks ``MovielensHook.get_ui_field_behaviour()``, which returns the same.
# Defaults applied by the hook when a field is empty: scheme http, host movielens, port 5000.
CONNECTION_UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["extra"],
    "relabeling": {"schema": "Scheme (http or https)", "login": "Username"},
    "placeholders": {
        "host": "movielens",
        "port": "5000",
        "schema": "http",
        "login": "airflow",
        "password": "API password",
    },
}

# The connection's extras (see airflow_movielens.connection), as form fields: Airflow 3 reads them as
# the provider info's "conn-fields" below; Airflow 2.11 gets the same fields from
# MovielensHook.get_connection_form_widgets(). Text fields on both lines: verify takes true, false or a path.
CONNECTION_FORM_FIELDS: dict[str, dict[str, str]] = {
    "verify": {
        "label": "Verify TLS (true, false or CA bundle path)",
        "description": "true (default): check the server certificate against the system CA bundle; "
        "a path: against that CA bundle file or directory; false: do not check (insecure, logged).",
    },
    "cert": {
        "label": "Client certificate path (mTLS)",
        "description": "PEM file of the client certificate (may hold the key too), for mutual TLS.",
    },
    "key": {
        "label": "Client key path (mTLS)",
        "description": "PEM file of the client certificate's unencrypted private key; needs cert.",
    },
    "headers": {
        "label": "Extra headers (JSON object)",
        "description": 'Extra request headers, e.g. {"X-Tenant": "acme"}; string values only, no '
        "Authorization (use login and password). Values are masked in logs and errors.",
    },
}


def get_provider_info() -> dict[str, Any]:
    """Describe the provider to Airflow's ProvidersManager (``airflow providers list``)."""
    return {
        "package-name": "airflow-movielens",
        "name": "MovieLens",
        "description": "Hook, operators, sensor and deferrable trigger for the MovieLens ratings API.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "MovieLens",
                "external-doc-url": "https://grouplens.org/datasets/movielens/",
                "tags": ["service"],
            }
        ],
        "hooks": [{"integration-name": "MovieLens", "python-modules": ["airflow_movielens.hooks"]}],
        "operators": [{"integration-name": "MovieLens", "python-modules": ["airflow_movielens.operators"]}],
        "sensors": [{"integration-name": "MovieLens", "python-modules": ["airflow_movielens.sensors"]}],
        "triggers": [{"integration-name": "MovieLens", "python-modules": ["airflow_movielens.triggers"]}],
        "connection-types": [
            {
                "hook-class-name": "airflow_movielens.hooks.MovielensHook",
                "connection-type": "movielens",
                "hook-name": "MovieLens",
                "ui-field-behaviour": CONNECTION_UI_FIELD_BEHAVIOUR,
                "conn-fields": {
                    name: {
                        "label": spec["label"],
                        "description": spec["description"],
                        "schema": {"type": ["string", "null"]},
                    }
                    for name, spec in CONNECTION_FORM_FIELDS.items()
                },
            }
        ],
    }
