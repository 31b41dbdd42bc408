#!/bin/sh
# gen-vn-ids.sh -- make vn_ids_data.c (the facts the schema plugin's
# Vietnamese checks use) from the rule library's lua/mekong/id_data.lua, so
# the C checks and the Lua library read the same facts.  Run from the
# source tree root after changing id_data.lua:
#   sh plugins/schema/gen-vn-ids.sh > plugins/schema/vn_ids_data.c
# tests/scripts/schema.sh checks that the checked-in file is what this makes.
set -eu
src=${1:-lua/mekong/id_data.lua}
awk '
BEGIN {
    print "/* vn_ids_data.c -- made by plugins/schema/gen-vn-ids.sh from"
    print " * lua/mekong/id_data.lua; do not edit. */"
    print "#include \"ts_vn.h\""
    print ""
}
/^M\.provinces/ { t = "p"; print "const char *const ts_vn_cccd_provinces[] = {"; next }
/^M\.mobile_2018/ { t = "m"; print "const char *const ts_vn_mobile_2018[][2] = {"; next }
/^M\.landline_areas/ { t = "l"; print "const char *const ts_vn_landline_areas[] = {"; next }
/^}/ { if (t != "") { print (t == "m" ? "    {0, 0}," : "    0,"); print "};"; print "" } t = ""; next }
t == "p" && match($0, /\["[0-9]+"\]/) { print "    \"" substr($0, RSTART + 2, RLENGTH - 4) "\","; next }
t == "l" && match($0, /\["[0-9]+"\]/) { print "    \"" substr($0, RSTART + 2, RLENGTH - 4) "\","; next }
t == "m" && match($0, /\["[0-9]+"\] = "[0-9]+"/) {
    s = substr($0, RSTART, RLENGTH); gsub(/[\[\]" ]/, "", s); split(s, kv, "=")
    print "    {\"" kv[1] "\", \"" kv[2] "\"},"; next
}
' "$src"
