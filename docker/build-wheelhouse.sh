#!/usr/bin/env bash
# Download every wheel the images install into a local wheelhouse, for Docker builds whose
# containers cannot reach a package index (no registry, or a TLS-intercepting proxy whose CA only
# the host trusts). With WHEELS_ONLY=1 the Dockerfiles then install with `--no-index --find-links`:
#
#   docker/build-wheelhouse.sh [DIR]          (default: docker/wheelhouse, which the Dockerfiles copy)
#   docker build --build-arg WHEELS_ONLY=1 ...                       # the server image (Dockerfile)
#   docker build --build-arg WHEELS_ONLY=1 -f contracts/Dockerfile . # the contract runner image
#
# Both images share one wheelhouse: it holds the dependencies of every distribution listed in
# DISTS (default "server contracts"; each a directory with a pyproject.toml), so one run serves
# both builds and a build that installs only one distribution just ignores the other's wheels.
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

read -r -a dists <<<"${DISTS:-server contracts}"
pyprojects=()
for dist in "${dists[@]}"; do
    [[ -f "$repo/$dist/pyproject.toml" ]] || { echo "build-wheelhouse: no $dist/pyproject.toml" >&2; exit 1; }
    pyprojects+=("$repo/$dist/pyproject.toml")
done

# Each distribution's dependencies plus its build backend (pip builds the distribution itself
# inside the image), deduplicated: one `pip download` resolves them together against CONSTRAINT.
mapfile -t reqs < <("$py" - "${pyprojects[@]}" <<'PY'
import sys, tomllib
reqs = []
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        meta = tomllib.load(f)
    reqs += meta["project"]["dependencies"] + meta["build-system"]["requires"]
print("\n".join(dict.fromkeys(reqs)))
PY
)

platforms=()
for tag in manylinux2014 manylinux_2_17 manylinux_2_24 manylinux_2_27 manylinux_2_28 manylinux_2_31 \
           manylinux_2_34 manylinux_2_35 manylinux_2_36; do
    platforms+=(--platform "${tag}_${arch}")
done
abi="cp${pyver/./}"

mkdir -p "$out"
echo "build-wheelhouse: ${#reqs[@]} requirements of ${dists[*]} for CPython $pyver/$arch into $out"
"$py" -m pip download --quiet --disable-pip-version-check --dest "$out" \
    --only-binary=:all: --implementation cp --python-version "$pyver" \
    --abi "$abi" --abi abi3 --abi none "${platforms[@]}" \
    -c "$constraint" "${reqs[@]}" \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
echo "build-wheelhouse: $(find "$out" -name '*.whl' | wc -l) wheels in $out"
