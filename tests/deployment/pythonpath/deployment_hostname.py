"""``[core] hostname_callable`` of the deployment tier: the host name its launcher gave the component.

The tier runs two Celery workers on one machine, where ``socket.getfqdn()`` (Airflow's default) would
give both the same name; each worker's ``DEPLOYMENT_HOSTNAME`` stands in for the name of the machine it
would run on in a real deployment, so the task instances record which worker ran them.
"""

from __future__ import annotations

import os
import socket


def hostname() -> str:
    """``$DEPLOYMENT_HOSTNAME``, else the machine's fully qualified name."""
    return os.environ.get("DEPLOYMENT_HOSTNAME") or socket.getfqdn()
