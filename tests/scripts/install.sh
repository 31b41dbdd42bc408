#!/usr/bin/env bash
# install.sh -- `make install` gives what an integrator and a plugin author
# need, and a plugin builds out of tree against it:
#   1. make install DESTDIR=TMP installs the command, the headers (mekong.h,
#      mekong_kit.h), the plugin kit (libmekongkit), mekong.pc and the csv,
#      jsonl and map plugins under the plugin folder;
#   2. the installed `mekong plugins` lists csv, jsonl and map from there
#      (they load the installed libmekongkit: no LD_LIBRARY_PATH is set);
#   3. contrib/example-plugin (a copy, so the source tree stays clean)
#      builds with its own Makefile, finding mekong and the kit only
#      through pkg-config and the installed mekong.pc;
#   4. a pipeline run by the installed command uses the example plugin
#      (--plugin-dir) and gives the expected bytes; `make install` of the
#      plugin puts it where the installed `mekong plugins` finds it.
set -u
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
root="$work/root"
unset MEKONG_PLUGIN_PATH LD_LIBRARY_PATH

ok() { echo "ok - install: $1"; }
not_ok() { echo "not ok - install: $1"; [ $# -gt 1 ] && sed 's/^/    /' "$2" | tail -15; }

for tool in make pkg-config cc; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "# skip: install: $tool is not installed (apt-get install build-essential pkg-config)"
        exit 0
    fi
done

# ---- 1. make install ------------------------------------------------------
if ! make -s -C "$MEKONG_BUILD" install DESTDIR="$root" > "$work/install.log" 2>&1; then
    not_ok "make install DESTDIR=... failed" "$work/install.log"
    exit 0
fi
var() { sed -n "s|^$1 = ||p" "$MEKONG_BUILD/Makefile" | head -1; }
prefix=$(var prefix)
# the installed files, found rather than assumed (libdir may be multiarch)
mekong="$root$(var bindir | sed "s|\${exec_prefix}|$(var exec_prefix)|; s|\${prefix}|$prefix|")/mekong"
pc=$(find "$root" -name mekong.pc | head -1)
header=$(find "$root" -path '*/include/mekong.h' | head -1)
kit_header=$(find "$root" -path '*/include/mekong_kit.h' | head -1)
kit_lib=$(find "$root" -name 'libmekongkit.so.0' | head -1)
missing=""
[ -x "$mekong" ] || missing="$missing the command ($mekong);"
[ -n "$pc" ] || missing="$missing mekong.pc;"
[ -n "$header" ] || missing="$missing include/mekong.h;"
[ -n "$kit_header" ] || missing="$missing include/mekong_kit.h;"
[ -n "$kit_lib" ] || missing="$missing libmekongkit.so.0;"
if [ -n "$missing" ]; then
    echo "not ok - install: make install did not install:$missing"
    find "$root" -type f | sed "s|^$root|    |"
    exit 0
fi
ok "make install DESTDIR=... installs the command, mekong.h, mekong_kit.h, libmekongkit and mekong.pc"

# pkg-config on the DESTDIR copy: every path of mekong.pc derives from prefix
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")
pkgconfig="pkg-config --define-variable=prefix=$root$prefix"
pluginsdir=$($pkgconfig --variable=pluginsdir mekong)
cflags=$($pkgconfig --cflags mekong | sed "s/ *$//")
case "$pluginsdir" in
    "$root"/*) ;;
    *) echo "not ok - install: mekong.pc's pluginsdir ($pluginsdir) does not follow its prefix"
       exit 0 ;;
esac
if [ "$cflags" != "-I$(dirname "$header")" ]; then
    echo "not ok - install: pkg-config --cflags mekong gives '$cflags', expected -I$(dirname "$header")"
fi

# ---- 2. the installed plugins --------------------------------------------
problems=""
for p in csv jsonl map; do
    [ -f "$pluginsdir/$p.so" ] || problems="$problems $p.so not in $pluginsdir;"
done
if "$mekong" plugins --plugin-dir "$pluginsdir" > "$work/plugins.txt" 2> "$work/plugins.err"; then
    for p in csv jsonl map; do
        grep -q "^$p .*  $pluginsdir/$p.so\$" "$work/plugins.txt" ||
            problems="$problems 'mekong plugins' does not list $p from $pluginsdir;"
    done
else
    problems="$problems 'mekong plugins' failed: $(head -2 "$work/plugins.err");"
fi
if [ -z "$problems" ]; then
    ok "the installed mekong plugins lists csv, jsonl and map from the installed plugin folder"
else
    echo "not ok - install: installed plugins:$problems"
    sed 's/^/    /' "$work/plugins.txt" | grep -v '^     ' | head -10
fi

# ---- 3. the example plugin, out of tree ----------------------------------
cp -r "$MEKONG_SRC/contrib/example-plugin" "$work/example"
rm -f "$work/example/upper.so"
# (MAKEFLAGS of an outer make -s would hide the commands the checks read)
if MAKEFLAGS= make -C "$work/example" PKG_CONFIG="$pkgconfig" > "$work/build.log" 2>&1 &&
    [ -f "$work/example/upper.so" ]; then
    ok "contrib/example-plugin builds with plain make against the installed mekong.pc and mekong.h"
else
    not_ok "contrib/example-plugin does not build against the installed mekong" "$work/build.log"
    exit 0
fi
if grep -q -- "-[IL]$MEKONG_SRC\|-[IL]$MEKONG_BUILD" "$work/build.log"; then
    echo "not ok - install: the example plugin was built with the build tree's headers or libraries"
    sed 's/^/    /' "$work/build.log"
fi
libs=$($pkgconfig --libs mekong | sed "s/ *$//")
if [ "$libs" != "-L$(dirname "$kit_lib") -lmekongkit" ]; then
    echo "not ok - install: pkg-config --libs mekong gives '$libs', expected -L$(dirname "$kit_lib") -lmekongkit"
elif ! grep -q -- "-lmekongkit" "$work/build.log" ||
    { command -v readelf >/dev/null 2>&1 &&
      ! readelf -d "$work/example/upper.so" | grep -q 'NEEDED.*libmekongkit\.so\.0'; }; then
    not_ok "the example plugin was not linked with the plugin kit" "$work/build.log"
else
    ok "pkg-config --libs mekong links the example plugin with the installed libmekongkit"
fi

# ---- 4. a pipeline that uses it ------------------------------------------
# (the installed command finds csv in the installed folder, not in
# $DESTDIR's, so that folder is named too)
mkdir -p "$work/run"
printf 'name,email,code\n' > "$work/run/in.csv"
printf 'Nguyễn Văn An,an.nguyen@gmail.com,hn-01\n' >> "$work/run/in.csv"
printf 'Trần Thị Bình,,""\n' >> "$work/run/in.csv"
printf 'lê duẩn,"Le.Duan@Gov.VN, cũ",ab\n' >> "$work/run/in.csv"
cat > "$work/run/p.yaml" <<'YAML'
sources:
  - name: people
    plugin: csv
    path: in.csv
transforms:
  - plugin: upper
    columns: [email, code]
sinks:
  - plugin: csv
    path: out.csv
rejects: rejects.csv
report: report.json
YAML
# NULL stays NULL, "" stays "", non-ASCII letters and other columns untouched
cat > "$work/run/want.csv" <<'CSV'
name,email,code
Nguyễn Văn An,AN.NGUYEN@GMAIL.COM,HN-01
Trần Thị Bình,,""
lê duẩn,"LE.DUAN@GOV.VN, Cũ",AB
CSV
if "$mekong" run "$work/run/p.yaml" --plugin-dir "$work/example" --plugin-dir "$pluginsdir" --quiet 2> "$work/run.err" &&
    cmp -s "$work/run/want.csv" "$work/run/out.csv" &&
    grep -q '"read":3,' "$work/run/report.json" && grep -q '"written":3,' "$work/run/report.json"; then
    ok "the installed mekong runs a pipeline with the example plugin (--plugin-dir)"
else
    echo "not ok - install: pipeline with the example plugin"
    sed 's/^/    stderr: /' "$work/run.err" | tail -5
    [ -f "$work/run/out.csv" ] && diff "$work/run/want.csv" "$work/run/out.csv" | sed 's/^/    /'
fi

# a misspelled column is an error that names it
sed -i 's/columns: \[email, code\]/columns: [emial]/' "$work/run/p.yaml"
if "$mekong" run "$work/run/p.yaml" --plugin-dir "$work/example" --plugin-dir "$pluginsdir" --quiet 2> "$work/run.err"; then
    echo "not ok - install: upper with an unknown column should fail the run"
elif grep -q "column 'emial' is not in the rows" "$work/run.err"; then
    ok "the example plugin names a column the rows lack"
else
    not_ok "the example plugin's error does not name the column" "$work/run.err"
fi

# make install of the plugin puts it in the installed plugin folder
if make -C "$work/example" install PKG_CONFIG="$pkgconfig" > "$work/pinstall.log" 2>&1 &&
    "$mekong" plugins --plugin-dir "$pluginsdir" 2>&1 | grep -q "^upper 1.0.0 .*  $pluginsdir/upper.so\$"; then
    ok "make install of the example plugin puts it where the installed mekong finds it"
else
    not_ok "make install of the example plugin" "$work/pinstall.log"
fi

# ---- 5. the administrative-unit tables -------------------------------------
# installed in $(pkgdatadir)/vn; the installed admin plugin reads them (under
# DESTDIR its built-in folder does not exist yet, so MEKONG_ADMIN_TABLES names it)
if [ -f "$pluginsdir/admin.so" ]; then
    datadir=$(var datadir | sed "s|\${datarootdir}|$(var datarootdir)|; s|\${prefix}|$prefix|")
    tables="$root$(var pkgdatadir | sed "s|\$(datadir)|$datadir|")/vn"
    printf 'id,address\n1,"Phường Trúc Bạch, Quận Ba Đình, Hà Nội"\n' > "$work/run/addr.csv"
    printf 'sources: [ { name: a, plugin: csv, path: addr.csv } ]\ntransforms: [ { plugin: admin, address: address } ]\nsinks: [ { plugin: csv, path: addr-out.csv } ]\nrejects: addr-rejects.csv\n' > "$work/run/addr.yaml"
    if [ -f "$tables/ward_old_to_new_2025.csv" ] && [ -f "$tables/PROVENANCE.md" ] &&
        MEKONG_ADMIN_TABLES="$tables" "$mekong" run "$work/run/addr.yaml" --plugin-dir "$pluginsdir" --quiet 2> "$work/admin.err" &&
        grep -q '^1,"Phường Trúc Bạch, Quận Ba Đình, Hà Nội",01,Thành phố Hà Nội,00004,Phường Ba Đình$' "$work/run/addr-out.csv"; then
        ok "the tables are installed in \$(pkgdatadir)/vn and the installed admin plugin reads them"
    else
        echo "not ok - install: the administrative-unit tables ($tables) or the installed admin plugin"
        sed 's/^/    stderr: /' "$work/admin.err" 2>/dev/null | tail -5
    fi
fi
