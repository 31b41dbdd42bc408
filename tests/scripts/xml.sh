#!/usr/bin/env bash
# xml.sh -- the xml plugin where one case folder is not enough:
#   1. XML -> CSV -> XML gives back the same bytes (escaping, CR, tab,
#      Vietnamese text, "" and NULL as xsi:nil);
#   2. no entity, DTD or parameter entity reaches the network: a listener
#      on a loopback port sees no connection;
#   3. the entity bombs (billion laughs, quadratic blowup) end within 2 s
#      and under 100 MB, with an error;
#   4. on_malformed: keep keeps the rows before the fault, rejects the rest
#      as one record, and the accounts balance;
#   5. peak memory over a 1 GB document (streamed through a FIFO, never on
#      disk) stays within 1.5x of that over a 10 MB one.  Under a sanitizer
#      build (ldd shows libasan) the big document is 100 MB, and it says so;
#      ASan's quarantine of freed memory is cut to 4 MB for these runs.
set -u
if [ ! -f "$MEKONG_BUILD/plugins/xml/.libs/xml.so" ] && ! "$MEKONG" plugins 2>/dev/null | grep -q '^xml '; then
    echo "# skip: xml: the xml plugin is not built (install libxml2-dev and configure again)"
    exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-xml.XXXXXX")
listener=""
cleanup() {
    [ -n "$listener" ] && kill "$listener" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
cd "$work" || exit 1
asan=0
ldd "$MEKONG" 2>/dev/null | grep -q libasan && asan=1

result() { # name problems
    if [ -z "$2" ]; then echo "ok - xml: $1"; else echo "not ok - xml: $1:$2"; fi
}

# ---- 1. round trip -------------------------------------------------------
roundtrip() {
    local p=""
    # the bytes the sink writes: the document must come back identical
    printf '%s\n' '<?xml version="1.0" encoding="UTF-8"?>' \
        '<DanhSach xmlns="urn:example:dancu" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' \
        '  <CongDan id="001" note="tab&#9;and&#10;line &amp; &quot;quote&quot; &lt;x&gt;">' \
        '    <full_name>Nguyễn Văn Đức</full_name>' \
        '    <address>  Số 1, phố Tràng Tiền&#13;' \
        'Hoàn Kiếm &amp; &lt;Hà Nội&gt; ]]&gt; </address>' \
        '    <phone></phone>' \
        '  </CongDan>' \
        '  <CongDan id="002">' \
        '    <full_name>Trần Thị Bé</full_name>' \
        '    <address xsi:nil="true"/>' \
        '    <phone>0901 234 567</phone>' \
        '  </CongDan>' \
        '</DanhSach>' > orig.xml
    cat > to-csv.yaml <<'YAML'
sources:
  - name: feed
    plugin: xml
    path: orig.xml
    record: /d:DanhSach/d:CongDan
    namespaces: { d: "urn:example:dancu" }
    fields: { id: "@id", note: "@note", full_name: d:full_name, address: d:address, phone: d:phone }
sinks: [ { plugin: csv, path: mid.csv } ]
rejects: rejects1.csv
YAML
    cat > to-xml.yaml <<'YAML'
sources: [ { name: mid, plugin: csv, path: mid.csv } ]
sinks:
  - { plugin: xml, path: back.xml, root: DanhSach, record: CongDan, namespace: "urn:example:dancu",
      attributes: [id, note], null: nil }
rejects: rejects2.csv
YAML
    "$MEKONG" run to-csv.yaml -q 2> err1 || p="$p xml -> csv failed ($(tail -1 err1));"
    "$MEKONG" run to-xml.yaml -q 2> err2 || p="$p csv -> xml failed ($(tail -1 err2));"
    cmp -s orig.xml back.xml || p="$p the document came back different: $(diff orig.xml back.xml | head -5 | tr '\n' ' ');"
    # and the CSV in the middle holds the values, not their escapes
    grep -q '^001,"tab	and' mid.csv || p="$p mid.csv lacks the attribute's tab;"
    grep -q '^002,,Trần Thị Bé,,0901 234 567$' mid.csv || p="$p row 002 (NULL address) is not as expected in mid.csv;"
    result "XML -> CSV -> XML gives the same bytes" "$p"
}

# ---- 2. no network ---------------------------------------------------------
no_network() {
    local p="" port
    # a loopback listener that counts connections (it never answers)
    cat > listen.py <<'PY'
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True)
n = 0
while True:
    c, _ = s.accept(); n += 1
    open(sys.argv[1], "w").write(str(n)); c.close()
PY
    python3 listen.py connections > port &
    listener=$!
    for _ in $(seq 50); do [ -s port ] && break; sleep 0.1; done
    port=$(head -1 port)
    if [ -z "$port" ]; then result "no network" " the loopback listener did not start"; return; fi
    cat > net.xml <<XML
<?xml version="1.0"?>
<!DOCTYPE r SYSTEM "http://127.0.0.1:$port/external.dtd" [
  <!ENTITY remote SYSTEM "http://127.0.0.1:$port/entity">
  <!ENTITY % pe SYSTEM "http://127.0.0.1:$port/pe.dtd">
  %pe;
]>
<r>
  <c><a>&remote;</a></c>
  <c><a>local</a></c>
</r>
XML
    cat > net.yaml <<'YAML'
sources: [ { name: net, plugin: xml, path: net.xml, record: /r/c, fields: { a: a } } ]
sinks: [ { plugin: csv, path: net-out.csv } ]
rejects: net-rejects.csv
YAML
    "$MEKONG" run net.yaml -q 2> net.err || p="$p the run failed ($(tail -1 net.err));"
    sleep 0.3
    [ -s connections ] && p="$p the listener saw $(cat connections) connection(s);"
    grep -q '^local$' net-out.csv 2>/dev/null || p="$p the plain record is missing;"
    grep -q 'xml.entity: entity &remote;' net-rejects.csv 2>/dev/null || p="$p the record with &remote; is not rejected;"
    kill "$listener" 2>/dev/null
    wait "$listener" 2>/dev/null
    listener=""
    result "external DTD, entity and parameter entity never reach the network" "$p"
}

# ---- 3. entity bombs -------------------------------------------------------
bombs() {
    local p=""
    {
        echo '<?xml version="1.0"?>'
        echo '<!DOCTYPE r ['
        echo ' <!ENTITY l0 "lol">'
        for i in $(seq 1 9); do
            printf ' <!ENTITY l%d "' "$i"
            for _ in $(seq 10); do printf '&l%d;' $((i - 1)); done
            echo '">'
        done
        echo ']>'
        echo '<r><c><a>&l9;</a></c></r>'
    } > laughs.xml
    awk 'BEGIN { s = "xxxxxxxxxx"; while (length(s) < 100000) s = s s; s = substr(s, 1, 100000);
      print "<?xml version=\"1.0\"?>"; print "<!DOCTYPE r [<!ENTITY a \"" s "\">]>";
      printf "<r><c><a>"; for (i = 0; i < 100000; i++) printf "&a;"; print "</a></c></r>" }' > quadratic.xml
    local f secs kb
    for f in laughs quadratic; do
        cat > "$f.yaml" <<YAML
sources: [ { name: $f, plugin: xml, path: $f.xml, record: /r/c, fields: { a: a } } ]
sinks: [ { plugin: csv, path: $f-out.csv } ]
rejects: $f-rejects.csv
YAML
        /usr/bin/time -f '%e %M' -o "$f.time" "$MEKONG" run "$f.yaml" -q 2> "$f.err"
        local rc=$?
        read -r secs kb < <(tail -1 "$f.time")
        [ "$rc" = 1 ] || p="$p $f: exit status $rc, expected 1;"
        grep -qE 'entity reference loop|entities expand to more than' "$f.err" ||
            p="$p $f: no entity error in stderr ($(tail -1 "$f.err"));"
        [ "$asan" = 1 ] || awk -v s="$secs" 'BEGIN {exit !(s <= 2)}' || p="$p $f took $secs s;"
        [ "${kb:-999999}" -lt $((100 * 1024)) ] || [ "$asan" = 1 ] || p="$p $f peaked at $kb KB;"
        [ -e "$f-out.csv" ] && p="$p $f: the output was published;"
        echo "# xml: $f: $secs s, peak RSS $((${kb:-0} / 1024)) MB"
    done
    result "billion laughs and quadratic blowup end within 2 s and under 100 MB" "$p"
}

# ---- 4. on_malformed: keep -------------------------------------------------
keep_malformed() {
    local p=""
    {
        echo '<r>'
        yes '  <c><a>fine</a></c>' | head -n 20000
        echo '  <c><a>broken</b></c>'
        yes '  <c><a>never read</a></c>' | head -n 10
        echo '</r>'
    } > broken.xml
    cat > keep.yaml <<'YAML'
sources: [ { name: broken, plugin: xml, path: broken.xml, record: /r/c, on_malformed: keep, fields: { a: a } } ]
sinks: [ { plugin: csv, path: keep-out.csv } ]
rejects: keep-rejects.csv
report: keep.json
YAML
    "$MEKONG" run keep.yaml -q 2> keep.err || p="$p the run failed ($(tail -1 keep.err));"
    python3 - keep.json <<'PY' || p="$p the report is wrong;"
import json, sys
r = json.load(open(sys.argv[1]))
t = r["totals"]
ok = (t["balanced"] and t["rejected"] == 1 and t["written"] + t["rejected"] == t["read"]
      and 19000 <= t["written"] <= 20000)
rule = [x for x in r["rules"] if x["rule"] == "xml.malformed"]
ok = ok and rule and rule[0]["rejected"] == 1
if not ok:
    print("# xml: report totals", t, file=sys.stderr)
sys.exit(0 if ok else 1)
PY
    grep -q 'broken.xml:20002:.*Opening and ending tag mismatch.*the rest of the file is not read' keep-rejects.csv ||
        p="$p the rejects file does not name broken.xml:20002 ($(tail -1 keep-rejects.csv));"
    grep -q 'never read' keep-out.csv && p="$p rows after the fault were kept;"
    result "on_malformed: keep keeps the rows before the fault and rejects the rest" "$p"
}

# ---- 5. memory over a 1 GB document ------------------------------------------
# peak_rss BYTES: read a generated document of about BYTES through a FIFO;
# sets rss_kb and rows, returns 1 when the run fails.
peak_rss() {
    local n=$(($1 / 200))
    rm -f big.xml
    mkfifo big.xml || return 1
    {
        echo '<?xml version="1.0" encoding="UTF-8"?>'
        echo '<dc:DanhSach xmlns:dc="urn:example:dancu">'
        yes '  <dc:CongDan SoDinhDanh="001203004567"><dc:HoTen>Nguyễn Văn An</dc:HoTen><dc:DiaChi><dc:Xa>Phường Phúc Xá</dc:Xa></dc:DiaChi><!-- c --><dc:Ghi>ghi chú</dc:Ghi></dc:CongDan>' |
            head -n "$n"
        echo '</dc:DanhSach>'
    } > big.xml &
    cat > big.yaml <<'YAML'
sources:
  - name: big
    plugin: xml
    path: big.xml
    record: /dc:DanhSach/dc:CongDan
    namespaces: { dc: "urn:example:dancu" }
    fields: { id: "@SoDinhDanh", name: dc:HoTen, ward: dc:DiaChi/dc:Xa, note: dc:Ghi }
sinks: [ { plugin: csv, path: /dev/null } ]
rejects: big-rejects.csv
report: big.json
YAML
    # under ASan, freed memory waits in a quarantine (256 MB by default)
    # that libxml2's reader, freeing every node, fills: keep it small here
    ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}quarantine_size_mb=4" \
        /usr/bin/time -f '%M' -o big.time "$MEKONG" run big.yaml -q 2> big.err
    local rc=$?
    wait
    rss_kb=$(tail -1 big.time)
    rows=$(grep -o '"written":[0-9]*' big.json | head -1 | cut -d: -f2)
    [ "$rc" = 0 ] && [ "$rows" = "$n" ]
}
memory() {
    if [ ! -x /usr/bin/time ]; then
        echo "# skip: xml: memory: GNU time is needed for peak RSS (apt-get install time)"
        return
    fi
    local big=1000000000 note="" p="" small_kb
    [ "$asan" = 1 ] && big=100000000 note=" (sanitizer build: 100 MB instead of 1 GB)"
    peak_rss 10000000 || p="$p the 10 MB run failed ($(tail -1 big.err));"
    small_kb=$rss_kb
    peak_rss "$big" || p="$p the big run failed ($(tail -1 big.err); $rows rows);"
    echo "# xml: peak RSS 10 MB document: $((small_kb / 1024)) MB, $((big / 1000000)) MB document: $((rss_kb / 1024)) MB ($rows rows)"
    [ $((rss_kb * 2)) -le $((small_kb * 3)) ] || p="$p peak RSS $rss_kb KB is more than 1.5 x $small_kb KB;"
    result "peak memory over a $((big / 1000000)) MB document is within 1.5x of a 10 MB one$note" "$p"
}

roundtrip
no_network
bombs
keep_malformed
memory
