-- mekong.lookup -- CSV mapping tables (code lists, old -> 2025 units),
-- parsed once per run into C memory that every worker shares, and looked
-- up in constant time.
--
--   local lookup = require "mekong.lookup"
--   local units = lookup.load(params.units_csv, { key = "old_code", value = "new_code" })
--   row.ward_code = units[row.ward_code] or row.ward_code
--   local wards = lookup.load("wards.csv", { key = { "ward", "district", "province" },
--                                            duplicates = "all", normalize = { "nfc", "lower", "tone" } })
--   local matches = wards:get(row.ward, row.district, row.province)   -- a list, or nil
--
-- load(path, opts) reads the CSV file at path (a relative path is taken from
-- the pipeline's folder, like every path of the pipeline file; in `mekong
-- test`, from the test file's folder), whose first line is the header, and
-- returns a read-only table: t[key] (one key column) or t:get(k1, k2, ...)
-- (one value per key column) gives the key's value; with no opts.value, the
-- whole row (a table column -> value); with duplicates = "all", the list of
-- them in file order.  No match, or a nil key: nil.  pairs(t) walks the keys
-- as written in the file, t:size() counts them.  All keys and values are
-- strings.
--   opts.key         the key column, or a list of them (a composite key)
--   opts.value       column of the values (optional)
--   opts.duplicates  "error" (default: a key twice fails the load), "first",
--                    "last" (one match kept) or "all" (one-to-many: a list)
--   opts.normalize   how keys are compared, on both sides (the table's keys
--                    and what is looked up): a list of "trim", "nfc",
--                    "lower", "tone" (tone placement does not count: hòa =
--                    hoà), "fold" (no case, tones or diacritics: đ = d) and
--                    pad = N (a key of digits shorter than N gets leading
--                    zeros: "1234" = "01234").  Or, as before, a function
--                    applied to the table's keys only (apply it yourself to
--                    what you look up); such a table is not shared.
-- The same file with the same opts is read once per Lua state and parsed
-- once per run (the states share the parsed table).  Errors (no such file,
-- a missing column, a malformed line) are raised with the file and line.
-- Load in setup() or at the top of the rule file: loading in process() works
-- too (the first call per worker reads the file), but costs a file read per
-- worker and hides a bad file until the first row.
-- CSV: comma-separated, fields in double quotes may hold commas, quotes
-- (doubled) and line breaks; LF or CRLF line ends; a UTF-8 BOM is skipped;
-- blank lines are skipped.
local core = require "mekong.lookup_core"

local M = {}

local cache = {}

local duplicates_codes = { error = 0, first = 1, last = 2, all = 3 }
local step_codes = { trim = core.TRIM, nfc = core.NFC, lower = core.LOWER, tone = core.TONE,
                     fold = core.FOLD }

-- opts.key as a list of column names.
local function key_columns(key)
  if type(key) == "string" then return { key } end
  if type(key) ~= "table" or #key == 0 then return nil end
  local list = {}
  for i, k in ipairs(key) do
    if type(k) ~= "string" then return nil end
    list[i] = k
  end
  return list
end

-- opts.normalize as (steps, pad) or a function.
local function normalize_steps(norm)
  if norm == nil then return 0, 0 end
  if type(norm) == "function" then return 0, 0, norm end
  if type(norm) ~= "table" then
    error("lookup.load: opts.normalize must be a list such as { \"nfc\", \"lower\" } or a function", 3)
  end
  local steps = 0
  for _, name in ipairs(norm) do
    local code = step_codes[name]
    if not code then
      error("lookup.load: opts.normalize has '" .. tostring(name) ..
        "'; known: trim, nfc, lower, tone, fold and pad = N", 3)
    end
    steps = steps | code
  end
  for k in pairs(norm) do
    if type(k) ~= "number" and k ~= "pad" then
      error("lookup.load: opts.normalize has the field '" .. tostring(k) .. "'; only pad = N", 3)
    end
  end
  local pad = norm.pad or 0
  if math.type(pad) ~= "integer" or pad < 0 or pad > 64 then
    error("lookup.load: opts.normalize.pad must be a whole number from 0 to 64", 3)
  end
  return steps, pad
end

function M.load(path, opts)
  if type(path) ~= "string" then error("lookup.load: the path must be a string", 2) end
  local keys = type(opts) == "table" and key_columns(opts.key)
  if not keys then
    error("lookup.load: opts.key (the key column, or a list of them) is required", 2)
  end
  local dup = opts.duplicates or "error"
  if not duplicates_codes[dup] then
    error("lookup.load: opts.duplicates must be error, first, last or all", 2)
  end
  if opts.value ~= nil and type(opts.value) ~= "string" then
    error("lookup.load: opts.value must be a column name", 2)
  end
  local steps, pad, fn = normalize_steps(opts.normalize)
  local id = table.concat({ path, table.concat(keys, "\31"), opts.value or "", dup, steps, pad,
                            fn and tostring(fn) or "" }, "\0")
  if cache[id] then return cache[id] end

  -- pcall: a path the sandbox refuses is reported at the caller's line too
  local ok, f, err = pcall(io.open, path, "rb")
  if not ok then error("lookup.load: " .. tostring(f), 2) end
  if not f then error("lookup.load: " .. err, 2) end
  local text, rerr = f:read("a")
  f:close()
  if not text then error("lookup.load: " .. path .. ": " .. tostring(rerr), 2) end

  local spec = { keys = keys, value = opts.value, duplicates = duplicates_codes[dup],
                 steps = steps, pad = pad }
  core.loading(path)
  local okb, t = pcall(core.build, text, path, spec, fn)
  core.loading(nil)
  if not okb then error(t, 0) end
  cache[id] = t
  return t
end

-- How many tables are parsed and shared in this process (tests).
M.shared_count = core.shared

return M
