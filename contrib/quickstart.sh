#!/usr/bin/env bash
# contrib/quickstart.sh [test] -- from a fresh checkout to a working mekong.
#
#   contrib/quickstart.sh        install what is missing, build, run the demo
#                                pipeline and the citizen-registry example,
#                                and say where their results are
#   contrib/quickstart.sh test   the same set-up, then the whole test suite
#
# Debian/Ubuntu packages are installed with apt-get (as root, or via sudo).
# MEKONG_CONFIGURE_FLAGS adds ./configure options (CI: --enable-werror).
set -euo pipefail
cd "$(dirname "$0")/.."
# Plugins in folders that others may write are refused (README.md, "Writing
# a plugin"): build with files and folders only their owner can write.
umask 022
mode=${1:-demo}
case "$mode" in demo|test) ;; *) echo "usage: contrib/quickstart.sh [test]" >&2; exit 2 ;; esac

packages=(build-essential autoconf automake libtool pkg-config
          libyaml-dev libcsv-dev liblua5.4-dev libutf8proc-dev libxml2-dev libpq-dev python3
          libpcre2-dev nettle-dev)
# The test suite needs a little more.  tests/scripts/*.sh and the cases use
# bash, python3, make, cc and pkg-config (install.sh), GNU time as
# /usr/bin/time (memory.sh's peak RSS), and from the base system awk, iconv,
# mkfifo, timeout, cmp and diff.  Only GNU time is not in the list above.
# The fuzz targets (tests/fuzz/run.sh, run by .ci/run) need clang and the
# libFuzzer runtime.
if [ "$mode" = test ]; then
    packages+=(time libxml2-utils clang libclang-rt-14-dev) # libxml2-utils: xmllint, the XML benchmark's peer
    # tests/scripts/pg.sh starts its own throwaway PostgreSQL cluster
    # (initdb, pg_ctl, psql from these packages).
    packages+=(postgresql postgresql-client)
    packages+=(systemd) # systemd-analyze verify of contrib/systemd/ (tests/scripts/contrib.sh)
    # tests/scripts/shards-slurm.sh starts its own single-node Slurm cluster
    # (munged, slurmctld -D, slurmd -D; no systemd needed).
    packages+=(slurm-wlm munge)
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "quickstart: installing ${missing[*]}"
    if [ "$(id -u)" -eq 0 ]; then
        sudo=()
    elif command -v sudo >/dev/null; then
        sudo=(sudo)
    else
        echo "quickstart: run as root, or install: apt-get install ${missing[*]}" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ ! -x configure ]; then
    ./autogen.sh
fi
if [ ! -f Makefile ]; then
    # shellcheck disable=SC2086
    ./configure ${MEKONG_CONFIGURE_FLAGS:-}
fi
make -j"$(nproc)"

if [ "$mode" = test ]; then
    make -s --no-print-directory check
    exit 0
fi

./engine/mekong run pipelines/demo/pipeline.yaml
./engine/mekong run pipelines/registry/pipeline.yaml
cat <<MSG

The demo ran.  Its results are in pipelines/demo/out/:
  citizens.csv, citizens.jsonl   the clean, aligned dataset
  rejects.csv                    every rejected row with its source, line, stage and reason
  report.json, report.html       the run report (open report.html in a browser)
The citizen-registry example ran too: pipelines/registry/out/ (citizens.csv, rejects.csv and
the reports).  pipelines/registry/README.md says what it does; its rule tests run with
  ./engine/mekong test pipelines/registry/pipeline.yaml
Next: README.md walks through the demo pipeline line by line.
MSG
