#!/usr/bin/env bash
# Download every wheel the server image installs into a local wheelhouse, for Docker builds whose
# containers cannot reach a package index (no registry, or a TLS-intercepting proxy whose CA only
# the host trusts). With WHEELS_ONLY=1 the Dockerfile then installs with `--no-index --find-links`:
#
#   docker/build-wheelhouse.sh [DIR]          (default: docker/wheelhouse, which the Dockerfile copies)
#   docker build --build-arg WHEELS_ONLY=1 ...
#
# Wheels are for the image's interpreter (PYTHON_VERSION, default 3.11, CPython on glibc Linux of
# this machine's architecture), pinned by the same constraints as the tests (CONSTRAINT).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$repo/docker/wheelhouse}
py=${PYTHON:-python3}
pyver=${PYTHON_VERSION:-3.11}
constraint=${CONSTRAINT:-$repo/.ci/constraints/af33.txt}
arch=$(uname -m)

# The server's dependencies plus the build backend (pip builds the server itself inside the image).
mapfile -t reqs < <("$py" - "$repo/server/pyproject.toml" <<'PY'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    meta = tomllib.load(f)
print("\n".join(meta["project"]["dependencies"]))
print("\n".join(meta["build-system"]["requires"]))
PY
)

platforms=()
for tag in manylinux2014 manylinux_2_17 manylinux_2_24 manylinux_2_27 manylinux_2_28 manylinux_2_31 \
           manylinux_2_34 manylinux_2_35 manylinux_2_36; do
    platforms+=(--platform "${tag}_${arch}")
done
abi="cp${pyver/./}"

mkdir -p "$out"
echo "build-wheelhouse: ${#reqs[@]} requirements for CPython $pyver/$arch into $out"
"$py" -m pip download --quiet --disable-pip-version-check --dest "$out" \
    --only-binary=:all: --implementation cp --python-version "$pyver" \
    --abi "$abi" --abi abi3 --abi none "${platforms[@]}" \
    -c "$constraint" "${reqs[@]}" \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
echo "build-wheelhouse: $(find "$out" -name '*.whl' | wc -l) wheels in $out"
