-- tests/lua/lib.lua -- a rule that calls one function of the rule library
-- per row, so that `mekong test` can test the library (the *.test.yaml
-- files beside this one; run by tests/scripts/rule-tests.sh).
--
-- Input columns (all optional except fn; a column the case does not give is
-- read as absent):
--   fn        "text.upper", "vn.decode", "id.cccd", "date.to_iso",
--             "address.expand", "lookup.load", ... (module.function);
--             "id_data.keys", "id_data.entry" (below) read mekong.id_data
--   arg       the first argument (a string; ~ for nil)
--   arg_hex   the first argument as hex bytes ("c3a9"), for invalid UTF-8 and
--             NFD text that YAML would not show plainly
--   arg_type  "number", "table", "boolean" or "nil": that kind of value instead
--   repeat    the first argument is arg repeated this many times
--   arg2      the second argument (encoding, case mode, form name)
--   mode      the third argument (decode: "reject" or "replace")
--   forms     date.to_iso: a comma-separated list of forms (a table)
--   pivot     date.to_iso: forms.pivot
--   birth_date, sex   id.cccd: opts.birth_date, opts.sex
--   key, value, duplicates, normalize, get   lookup.load (see below)
--   want      a piece of text; has is "yes" when out2 or err holds it, else "no"
--   expect    with repeat: out must be expect repeated the same number of
--             times; match is "yes" or "no"
-- Output columns:
--   out, out2 the first two results (booleans as "true"/"false", integers in
--             decimal, a table as "table" with its fields in r_<field>)
--   out_hex   out in hex; out_len its length in bytes; match (see expect)
--   err       the message of an error raised by the call, without the
--             "file.lua:line: " position and with fixture paths relative to
--             this folder
--   n         lookup.load: how many keys the table has (key "a,b": a composite
--             key, get "x|y" its values; steps "nfc,lower,tone", pad: the
--             named normalize steps)
--   tone_style  text.clean: opts.tone_style
--   (id.phone: arg2 is opts.foreign)
local text = require "mekong.text"
local vn = require "mekong.vn"
local id = require "mekong.id"
local date = require "mekong.date"
local address = require "mekong.address"
local lookup = require "mekong.lookup"

local fields = { "valid", "reason", "province_code", "province_name", "province_code_2025",
                 "province_name_2025", "sex", "birth_year", "century_digit" }
local add = { "out", "out2", "out_hex", "out_len", "match", "has", "err", "n" }
for _, f in ipairs(fields) do add[#add + 1] = "r_" .. f end
columns = { add = add }

-- mekong.id_data is tables, not functions: id_data.keys(name) gives the keys
-- of one of its tables, sorted and joined with ","; id_data.entry(name, key)
-- the entry ("field=value;..." for a table entry).
local id_data = require "mekong.id_data"
local function joined(v)
  if type(v) ~= "table" then return v end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys)
  for i, k in ipairs(keys) do keys[i] = k .. "=" .. tostring(v[k]) end
  return table.concat(keys, ";")
end
local data_access = {
  keys = function(name)
    local keys = {}
    for k in pairs(id_data[name]) do keys[#keys + 1] = k end
    table.sort(keys)
    return table.concat(keys, ","), #keys
  end,
  entry = function(name, key) return joined(id_data[name][key]) end,
}

local modules = { text = text, vn = vn, id = id, date = date, address = address, lookup = lookup,
                  id_data = data_access }

-- The folder of this file: lookup fixtures are found from it whatever the
-- working directory of mekong test is.
local here = "."
do
  local info = require "libtest_here"
  here = info.dir
end

-- A column of the case, or nil when the case does not have it (reading a
-- column the row does not have ends the run, so look among its columns).
local function opt(row, name)
  for k, v in pairs(row) do
    if k == name then return v end
  end
  return nil
end

local function from_hex(h)
  h = h:gsub("%s", "")
  if #h % 2 == 1 or h:find("[^%x]") then error("arg_hex: not hex: " .. h) end
  return (h:gsub("%x%x", function(b) return string.char(tonumber(b, 16)) end))
end

local function to_hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

local function show(v)
  if v == nil then return nil end
  local t = type(v)
  if t == "string" then return v end
  if t == "boolean" then return tostring(v) end
  if math.type(v) == "integer" then return v end
  if t == "table" then return "table" end
  return t .. ": " .. tostring(v)
end

local normalizers = {
  fold = vn.fold,
  tone_key = vn.tone_key,
  lower = vn.lower,
  broken = function() return nil end,
  ["not a function"] = "x",
}

local function first_arg(row)
  local kind = opt(row, "arg_type")
  if kind == "number" then return 42 end
  if kind == "table" then return {} end
  if kind == "boolean" then return true end
  if kind == "nil" then return nil end
  local a = opt(row, "arg")
  local hex = opt(row, "arg_hex")
  if hex then a = from_hex(hex) end
  local rep = opt(row, "repeat")
  if rep and a then a = string.rep(a, tonumber(rep)) end
  return a
end

local function call(row, f, fname)
  local a = first_arg(row)
  if fname == "date.to_iso" then
    local forms = opt(row, "forms")
    local pivot = opt(row, "pivot")
    if forms then
      local list = {}
      for name in forms:gmatch("[^,%s]+") do list[#list + 1] = name end
      forms = list
      forms.pivot = pivot
    else
      forms = opt(row, "arg2")
    end
    return f(a, forms)
  elseif fname == "id.cccd" then
    local b, s = opt(row, "birth_date"), opt(row, "sex")
    if b or s then return f(a, { birth_date = b, sex = s }) end
    return f(a)
  elseif fname == "id.phone" and opt(row, "arg2") then
    return f(a, { foreign = opt(row, "arg2") })
  elseif fname == "text.clean" and opt(row, "tone_style") then
    return f(a, { tone_style = opt(row, "tone_style") })
  elseif fname == "lookup.load" then
    local path = a
    if type(path) == "string" and path:sub(1, 1) ~= "/" then
      -- the fixture beside this file when it is found there; otherwise the
      -- path as given (io.open may already resolve it from this folder)
      local f = io.open(here .. "/" .. path, "rb")
      if f then
        f:close()
        path = here .. "/" .. path
      end
    end
    local norm = opt(row, "normalize")
    local key = opt(row, "key")
    if key and key:find(",", 1, true) then -- a composite key: "a,b"
      local list = {}
      for k in key:gmatch("[^,]+") do list[#list + 1] = k end
      key = list
    end
    local normalize = norm and normalizers[norm]
    local steps = opt(row, "steps")
    if steps then -- "nfc,lower,tone" and pad
      normalize = {}
      for name in steps:gmatch("[^,]+") do normalize[#normalize + 1] = name end
    end
    local pad = opt(row, "pad")
    if pad then
      normalize = normalize or {}
      normalize.pad = math.tointeger(tonumber(pad)) or pad
    end
    local lookup_opts = { key = key, value = opt(row, "value"),
                          duplicates = opt(row, "duplicates"), normalize = normalize }
    if opt(row, "no_opts") then lookup_opts = nil end
    local map = f(path, lookup_opts)
    local n = 0
    for _ in pairs(map) do n = n + 1 end
    row.n = n
    local get = opt(row, "get")
    if get == nil then return nil end
    if type(key) == "table" then -- "a|b": one value per key column
      local parts = {}
      for v in (get .. "|"):gmatch("([^|]*)|") do parts[#parts + 1] = v end
      return joined(map:get(table.unpack(parts)))
    end
    if type(lookup_opts.normalize) == "function" then get = lookup_opts.normalize(get) end
    return joined(map[get])
  end
  local arg2, mode = opt(row, "arg2"), opt(row, "mode")
  if mode ~= nil then return f(a, arg2, mode) end
  if arg2 ~= nil then return f(a, arg2) end
  return f(a)
end

-- Text for a column.  Values leave mekong as UTF-8 (a rule cannot set a
-- column to other bytes), so bytes that are not -- a raw legacy value, a
-- message that quotes one -- are shown as \xHH; out_hex has the bytes.
local function printable(s)
  if type(s) ~= "string" or utf8.len(s) then return s end
  local parts, i = {}, 1
  while i <= #s do
    local ok, bad = utf8.len(s, i)
    if ok then
      parts[#parts + 1] = s:sub(i)
      break
    end
    parts[#parts + 1] = s:sub(i, bad - 1)
    parts[#parts + 1] = string.format("\\x%02X", s:byte(bad))
    i = bad + 1
  end
  return table.concat(parts)
end

function process(row)
  local fname = row.fn
  local mod, name = fname:match("^([%w_]+)%.([%w_]+)$")
  local f = mod and modules[mod] and modules[mod][name]
  if type(f) ~= "function" then error("no library function '" .. tostring(fname) .. "'") end
  local res = table.pack(pcall(call, row, f, fname))
  local want = opt(row, "want")
  if not res[1] then
    local msg = tostring(res[2]):gsub("^[^:\n]*%.lua:%d+: ", "")
    local at = msg:find(here .. "/", 1, true)
    if at then msg = msg:sub(1, at - 1) .. msg:sub(at + #here + 1) end
    row.err = printable(msg)
    if want then row.has = row.err:find(want, 1, true) and "yes" or "no" end
    return
  end
  local out, out2 = res[2], res[3]
  if want then row.has = type(out2) == "string" and out2:find(want, 1, true) and "yes" or "no" end
  row.out = printable(show(out))
  row.out2 = printable(show(out2))
  if type(out) == "string" then
    row.out_hex = to_hex(#out <= 200 and out or out:sub(1, 200))
    row.out_len = #out
    local expect = opt(row, "expect")
    local rep = opt(row, "repeat")
    if expect and rep then
      row.match = out == string.rep(expect, tonumber(rep)) and "yes" or "no"
    end
  elseif type(out) == "table" then
    for _, k in ipairs(fields) do row["r_" .. k] = show(out[k]) end
  end
end
