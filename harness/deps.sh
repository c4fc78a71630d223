#!/bin/sh
# Installs the Debian packages convbench needs when run as root, or prints
# the exact command to run. Exits non-zero if anything is still missing.
pkgs="gcc g++ make pkg-config libopenblas-openmp-dev libdnnl-dev
      libbenchmark-dev libfftw3-dev gnuplot-nox libcmocka-dev"

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' \
        || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "convbench: missing Debian packages:$missing" >&2
    echo "run as root: apt-get update && apt-get install -y$missing" >&2
    exit 1
fi

echo "convbench: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing
