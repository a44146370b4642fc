#!/usr/bin/env bash
# Start a Docker engine that only serves this machine: no bridge network, no iptables rules.
# Containers then run with host networking and the server binds 127.0.0.1 only.
# Idempotent: does nothing when an engine already answers. Bounded wait (DOCKERD_WAIT seconds).
set -euo pipefail

log=${DOCKERD_LOG:-/var/log/dockerd-movielens.log}
wait_s=${DOCKERD_WAIT:-60}

if docker info >/dev/null 2>&1; then
    echo "start-dockerd: an engine already answers"
    exit 0
fi
command -v dockerd >/dev/null || { echo "start-dockerd: dockerd not installed" >&2; exit 1; }

mkdir -p "$(dirname "$log")"
echo "start-dockerd: starting dockerd (log: $log)"
# setsid: the daemon outlives the calling shell and is not in its process group.
setsid dockerd --bridge=none --iptables=false --ip6tables=false >>"$log" 2>&1 </dev/null &
pid=$!
echo "$pid" > "${DOCKERD_PIDFILE:-/run/dockerd-movielens.pid}"

for _ in $(seq 1 "$wait_s"); do
    if docker info >/dev/null 2>&1; then
        echo "start-dockerd: engine up (pid $pid)"
        exit 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "start-dockerd: dockerd exited; last log lines:" >&2
        tail -n 30 "$log" >&2
        exit 1
    fi
    sleep 1
done
echo "start-dockerd: engine did not answer within ${wait_s}s; last log lines:" >&2
tail -n 30 "$log" >&2
exit 1
