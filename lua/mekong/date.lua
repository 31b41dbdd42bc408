-- mekong.date -- Vietnamese ways of writing a date, to ISO 8601.
--
--   local date = require "mekong.date"
--   local iso, why = date.to_iso(row.birth_date, { "dmy", "iso" })
--   check("birth_date", iso, why)
--   row.birth_date = iso
--
-- Forms (chosen per field; the default is { "iso", "dmy", "vn_words" }):
--   "dmy"      dd/mm/yyyy or d/m/yyyy; "-" or "." instead of "/" (the same both times)
--   "dmy2"     d/m/yy, dd/mm/yy: a two-digit year; yy <= pivot -> 20yy, else 19yy
--              (pivot: forms.pivot, default the last two digits of this year,
--              so a two-digit year is never in the future)
--   "iso"      yyyy-mm-dd
--   "vn_words" "ngày 5 tháng 3 năm 2020" (any letter case, spaces, leading zeros)
--   "year"     yyyy alone -> "yyyy"
-- Spaces around the value are ignored.  Impossible dates (31/02, 29/02 of a
-- common year, month 13, day 0) give nil and the reason.
local vn = require "mekong.vn"

local M = {}

-- The default dmy2 pivot, read once per Lua state (os.date per row would
-- take libc's time-zone lock, shared by the worker threads).
local this_yy = tonumber(os.date("%y"))

local known_forms = { dmy = true, dmy2 = true, iso = true, vn_words = true, year = true }
local default_forms = { "iso", "dmy", "vn_words" }

local function is_leap(y)
  return y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0)
end

local month_days = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }

-- "yyyy-mm-dd" from numeric strings, or nil and why the date cannot be.
local function make(y, m, d, text)
  local yn, mn, dn = tonumber(y), tonumber(m), tonumber(d)
  if yn < 1 then return nil, text .. ": year 0 does not exist" end
  if mn < 1 or mn > 12 then return nil, text .. ": there is no month " .. mn end
  local days = (mn == 2 and is_leap(yn)) and 29 or month_days[mn]
  if dn < 1 or dn > days then
    return nil, string.format("%s: month %d of %d has %d days, not %d", text, mn, yn, days, dn)
  end
  return string.format("%04d-%02d-%02d", yn, mn, dn)
end

local parsers = {}

function parsers.iso(s)
  local y, m, d = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
  if y then return make(y, m, d, s) end
end

function parsers.dmy(s)
  local d, _, m, y = s:match("^(%d%d?)([/%-%.])(%d%d?)%2(%d%d%d%d)$")
  if d then return make(y, m, d, s) end
end

function parsers.dmy2(s, forms)
  local d, _, m, yy = s:match("^(%d%d?)([/%-%.])(%d%d?)%2(%d%d)$")
  if not d then return end
  local pivot = forms.pivot and tonumber(forms.pivot) or this_yy
  local y = tonumber(yy) <= pivot and 2000 + tonumber(yy) or 1900 + tonumber(yy)
  return make(tostring(y), m, d, s)
end

function parsers.vn_words(s)
  local t = vn.lower(vn.collapse(vn.nfc(s) or "") or "")
  if not t then return end
  local d, m, y = t:match("^ngày (%d%d?) tháng (%d%d?) năm (%d%d%d%d)$")
  if d then return make(y, m, d, s) end
end

function parsers.year(s)
  local y = s:match("^(%d%d%d%d)$")
  if y then
    if tonumber(y) < 1 then return nil, s .. ": year 0 does not exist" end
    return y
  end
end

-- to_iso(s [, forms]) -> "yyyy-mm-dd" (or "yyyy" for form "year"), or nil, reason.
-- forms: a list of form names ({ "dmy", "iso" }, with an optional pivot
-- field for dmy2) or one name as a string.  nil gives nil.
function M.to_iso(s, forms)
  if s == nil then return nil end
  if type(s) ~= "string" then error("to_iso: the date must be a string (got " .. type(s) .. ")", 2) end
  if forms == nil then forms = default_forms end
  if type(forms) == "string" then forms = { forms } end
  for _, f in ipairs(forms) do
    if not known_forms[f] then
      error("to_iso: unknown form '" .. tostring(f) .. "' (known: dmy, dmy2, iso, vn_words, year)", 2)
    end
  end
  local t = vn.trim(s)
  if not t then return nil, "invalid UTF-8" end
  for _, f in ipairs(forms) do
    local iso, why = parsers[f](t, forms)
    if iso or why then return iso, why end
  end
  local names = {}
  for i, f in ipairs(forms) do names[i] = f end
  return nil, "'" .. s .. "' is not a date in the accepted forms (" .. table.concat(names, ", ") .. ")"
end

return M
