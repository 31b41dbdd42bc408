#!/bin/sh
# autogen.sh -- make ./configure from configure.ac (needs autoconf, automake, libtool).
set -e
cd "$(dirname "$0")"
autoreconf --force --install --warnings=all
echo "Now run ./configure && make"
