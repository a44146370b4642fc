#!/usr/bin/env bash
# Build a local Debian bookworm base image with python3 when no registry can be reached.
#
#   docker/build-base-image.sh [TAG]        (default: movielens-base:bookworm, or $MOVIELENS_BASE_IMAGE)
#
# debootstraps a minimal Debian (python3, python3-venv, ca-certificates) from the machine's own
# apt mirror into a temp dir and `docker import`s it. Skips when the tag already exists
# (FORCE=1 rebuilds). Needs root, debootstrap and a running Docker engine.
# Then build the server image with:  docker build --build-arg BASE_IMAGE=TAG .
set -euo pipefail

tag=${1:-${MOVIELENS_BASE_IMAGE:-movielens-base:bookworm}}
suite=${SUITE:-bookworm}

if [[ "${FORCE:-0}" != 1 ]] && docker image inspect "$tag" >/dev/null 2>&1; then
    echo "build-base-image: $tag already exists (FORCE=1 to rebuild)"
    exit 0
fi

# The mirror this machine's apt already uses (deb822 .sources or one-line .list), else Debian's.
mirror=${DEBIAN_MIRROR:-}
if [[ -z "$mirror" ]]; then
    mirror=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' \
             | grep -v -- '-security' | head -n1 || true)
fi
if [[ -z "$mirror" ]]; then
    mirror=$(grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
             | awk '{for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' | head -n1 || true)
fi
mirror=${mirror:-http://deb.debian.org/debian}

root=$(mktemp -d /tmp/movielens-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT

echo "build-base-image: debootstrap $suite from $mirror into $root"
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    "$suite" "$root" "$mirror" >"$root.log" 2>&1 || {
    echo "build-base-image: debootstrap failed; last log lines:" >&2
    tail -n 30 "$root.log" >&2
    rm -f "$root.log"
    exit 1
}
rm -f "$root.log"

# Keep the image small: package caches, docs and man pages are not needed at run time.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
       "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/*

echo "build-base-image: importing as $tag"
tar -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["/bin/bash"]' \
    - "$tag" >/dev/null
docker run --rm --network none "$tag" python3 -c 'import sys, venv, ssl; print("build-base-image: python", sys.version.split()[0])'
echo "build-base-image: done: $tag"
