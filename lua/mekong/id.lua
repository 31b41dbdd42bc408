-- mekong.id -- Vietnamese identifiers: the 12-digit citizen ID (CCCD), the
-- tax code (MST) and phone numbers.  Facts (province codes, the 2018 mobile
-- prefix table, landline area codes) are in mekong.id_data.
--
--   local id = require "mekong.id"
--   local c = id.cccd(row.national_id, { birth_date = row.birth_date, sex = row.sex })
--   check("cccd", c and c.valid, c and c.reason or "missing")
--
-- Inputs are strings; nil gives nil.  Nothing is turned into a number, so
-- leading zeros survive in every result.
local data = require "mekong.id_data"
local vn = require "mekong.vn"

local M = {}

-- The year, read once per Lua state: os.date per row would take libc's
-- time-zone lock, which the worker threads share.
local this_year = tonumber(os.date("%Y"))
local function current_year()
  return this_year
end

-- sex(s [, form]) -> "male" / "female" (form "en", the default), "Nam" /
-- "Nữ" (form "vi") or "M" / "F" (form "mf"); nil, reason for a word it
-- does not know; nil for nil.  Knows Nam, Nữ, Nu (Nữ without its
-- diacritics), M, F, male, female, in any case, NFC or not, with spaces.
local sex_words = {
  nam = "male", m = "male", male = "male",
  ["nữ"] = "female", nu = "female", f = "female", female = "female",
}
local sex_forms = {
  en = { male = "male", female = "female" },
  vi = { male = "Nam", female = "Nữ" },
  mf = { male = "M", female = "F" },
}
function M.sex(s, form)
  if s == nil then return nil end
  if type(s) ~= "string" then error("sex: the value must be a string (got " .. type(s) .. ")", 2) end
  local out = sex_forms[form or "en"]
  if not out then error("sex: form must be \"en\", \"vi\" or \"mf\", not " .. tostring(form), 2) end
  local t = vn.nfc(s)
  if t == nil then return nil, "sex is not valid UTF-8" end
  local key = vn.lower(vn.trim(t))
  if key == "" then return nil, "empty" end
  local sex = sex_words[key]
  if not sex then
    return nil, "sex '" .. s .. "' is not one of Nam, Nữ (or Nu), M, F, male, female"
  end
  return out[sex]
end
-- The century digit G (digit 4) of a CCCD: 0/1 1900-1999, 2/3 2000-2099,
-- ... (even male, odd female).
local function century_span(g)
  local from = 1900 + 100 * (g // 2)
  return from .. "-" .. (from + 99)
end

-- The digit a person born in year y of sex would have.
local function century_digit_for(y, sex)
  local g = 2 * ((tonumber(y) - 1900) // 100) + (sex == "female" and 1 or 0)
  return g >= 0 and g <= 9 and tostring(g) or nil
end

-- Why the birth year of the ID (century digit g, year digits yy) and the
-- birth date's year y disagree: which digit says what.
local function birth_mismatch(r, g, yy, y, date)
  local base = 1900 + 100 * (g // 2)
  if tonumber(y) >= base and tonumber(y) <= base + 99 then
    return "year digits " .. yy .. " (digits 5-6) say born " .. r.birth_year .. ", birth_date " ..
      date .. " says " .. y .. " (digits 5-6 would be " .. y:sub(3, 4) .. ")"
  end
  local want = century_digit_for(y, r.sex)
  return "century digit " .. g .. " (digit 4) says born " .. century_span(g) .. " (" .. r.sex ..
    "), birth_date " .. date .. " says " .. y ..
    (want and (": a " .. r.sex .. " born then has century digit " .. want) or "")
end

-- Why a birth year in the future: the century digit is the likely fault.
local function future_reason(r, g, yy)
  local now = current_year()
  if 1900 + 100 * (g // 2) > now then
    return "century digit " .. g .. " (digit 4) says born " .. century_span(g) ..
      ", which has not begun"
  end
  local earlier = g - 2
  return "century digit " .. g .. " (digit 4) and year digits " .. yy .. " say born " ..
    r.birth_year .. ", a year still to come; born " .. (tonumber(r.birth_year) - 100) ..
    ", the " .. r.sex .. " would have century digit " .. earlier
end

-- cccd(s [, opts]) -> table or nil.
-- Table: valid (boolean), reason (nil when valid), province_code ("001"),
-- province_name, province_code_2025, province_name_2025, sex ("male" or
-- "female"), birth_year ("1999"), century_digit ("0").  Fields that could be
-- read are filled even when valid is false.
-- opts.birth_date ("yyyy-mm-dd", or anything starting with the year) and
-- opts.sex (male/female/nam/nữ/m/f) are checked against the number.
function M.cccd(s, opts)
  if s == nil then return nil end
  if type(s) ~= "string" then error("cccd: the ID must be a string (got " .. type(s) .. ")", 2) end
  local r = { valid = false }
  if not s:find("^%d+$") then
    r.reason = #s == 0 and "empty" or "must be 12 digits, has other characters"
    return r
  end
  if #s == 9 then
    r.reason = "9 digits: an old identity card (CMND) number, not a 12-digit citizen ID"
    return r
  end
  if #s ~= 12 then
    r.reason = "must be 12 digits, has " .. #s
    return r
  end
  local code, g, yy = s:sub(1, 3), tonumber(s:sub(4, 4)), s:sub(5, 6)
  local province = data.provinces[code]
  r.province_code = code
  r.century_digit = s:sub(4, 4)
  r.sex = g % 2 == 0 and "male" or "female"
  r.birth_year = tostring(1900 + 100 * (g // 2) + tonumber(yy))
  if province then
    r.province_name = province.name
    r.province_code_2025 = province.code_2025
    r.province_name_2025 = province.name_2025
  else
    r.reason = "unknown province code " .. code
    return r
  end
  if opts and opts.birth_date ~= nil then
    local y = tostring(opts.birth_date):match("^%s*(%d%d%d%d)")
    if not y then
      r.reason = "birth_date '" .. tostring(opts.birth_date) .. "' does not start with a year (yyyy-mm-dd)"
      return r
    end
    if y ~= r.birth_year then
      r.reason = birth_mismatch(r, g, yy, y, tostring(opts.birth_date))
      return r
    end
  end
  if tonumber(r.birth_year) > current_year() then
    r.reason = future_reason(r, g, yy)
    return r
  end
  if opts and opts.sex ~= nil then
    local want, why = M.sex(tostring(opts.sex))
    if not want then
      r.reason = why
      return r
    end
    if want ~= r.sex then
      local other = g % 2 == 0 and g + 1 or g - 1
      r.reason = "century digit " .. g .. " (digit 4) is " .. (g % 2 == 0 and "even" or "odd") ..
        ", a " .. r.sex .. " born " .. century_span(g) .. ", but sex says " .. want ..
        " (a " .. want .. " born then has " .. other .. ")"
      return r
    end
  end
  r.valid = true
  return r
end

-- mst(s) -> valid, reason (nil for nil).
-- 10 digits with the check digit of NOTES "IDs"; or the branch form
-- NNNNNNNNNN-NNN (a valid 10-digit code, a hyphen, 001..999).
local weights = { 31, 29, 23, 19, 17, 13, 7, 5, 3 }
function M.mst(s)
  if s == nil then return nil end
  if type(s) ~= "string" then error("mst: the tax code must be a string (got " .. type(s) .. ")", 2) end
  local main, branch = s:match("^(%d%d%d%d%d%d%d%d%d%d)%-(%d%d%d)$")
  if not main then
    main = s:match("^(%d%d%d%d%d%d%d%d%d%d)$")
  end
  if not main then
    if s:find("^%d+$") and #s == 13 then
      return false, "13 digits: the branch form is NNNNNNNNNN-NNN, with a hyphen"
    end
    if s:find("^%d+$") and #s == 12 then
      return false, "12 digits: a personal ID number (used as tax code since 2025-07-01), not a 10-digit tax code"
    end
    return false, "must be 10 digits, or 10 digits, '-' and 3 digits (branch)"
  end
  local sum = 0
  for i = 1, 9 do
    sum = sum + (main:byte(i) - 48) * weights[i]
  end
  local c = 10 - sum % 11
  if c == 10 then
    return false, "no valid check digit exists for " .. main:sub(1, 9) .. " (never issued)"
  end
  if c ~= main:byte(10) - 48 then
    return false, "check digit is " .. main:sub(10) .. ", expected " .. c
  end
  if branch == "000" then
    return false, "branch number 000 is not used (001..999)"
  end
  return true
end

-- phone(s [, opts]) -> normalized, kind ("mobile" or "landline"), or nil,
-- reason.  A foreign number (+CC or 00CC, CC not 84) is nil and "a foreign
-- number (country code +1) ..." -- or, with opts.foreign = "keep", the
-- number as +<country code><digits> and the kind "foreign".
-- Strips spaces, dots, hyphens and parentheses; +84 / 0084 / 84 become 0,
-- and a 0 written after the country code, as in +84 (0) 912 345 678 or
-- (+84) 0912345678, is the same 0; old 11-digit mobile numbers (01xx) get
-- their 2018 10-digit prefix; landlines are 0 + area code (2x or 2xx) +
-- subscriber, 11 digits.  Any other +CC or 00CC is a foreign number.
local mobile_starts = { ["03"] = true, ["05"] = true, ["07"] = true, ["08"] = true, ["09"] = true }

-- ITU-T E.164 country codes are prefix-free: 1 and 7 are one digit, these
-- are two, every other code is three.
local two_digit_codes = {}
for c in ("20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 " ..
          "60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98"):gmatch("%d+") do
  two_digit_codes[c] = true
end
local function country_code(digits)
  local one = digits:sub(1, 1)
  if one == "1" or one == "7" then return one end
  if two_digit_codes[digits:sub(1, 2)] then return digits:sub(1, 2) end
  return digits:sub(1, 3)
end

-- The first character that is not a digit or separator, for the reason.
local function stray_character(s)
  local ok, bad = utf8.len(s)
  local limit = ok and #s or bad - 1
  for p, c in utf8.codes(s:sub(1, limit)) do
    local ch = utf8.char(c)
    if not ch:find("^[%d%s%.%-%(%)%+]$") then
      return "'" .. ch .. "' at character " .. utf8.len(s, 1, p)
    end
  end
  if not ok then return "byte " .. bad .. " is not UTF-8" end
  return "'+' not at the start"
end

function M.phone(s, opts)
  if s == nil then return nil end
  if type(s) ~= "string" then error("phone: the number must be a string (got " .. type(s) .. ")", 2) end
  local foreign = opts and opts.foreign or "reject"
  if foreign ~= "reject" and foreign ~= "keep" then
    error("phone: opts.foreign must be \"reject\" or \"keep\", not " .. tostring(foreign), 2)
  end
  local p = s:gsub("[%s%.%-%(%)]", "")
  if p == "" then return nil, "empty" end
  if not p:find("^%+?%d+$") then
    return nil, "has characters other than digits and + . - ( ) space (" .. stray_character(s) .. ")"
  end
  local international = p:match("^%+([1-9]%d*)$") or p:match("^00([1-9]%d*)$")
  if international then
    local cc = country_code(international)
    if cc ~= "84" then
      if foreign == "keep" then return "+" .. international, "foreign" end
      return nil, "a foreign number (country code +" .. cc .. "), not a Vietnamese one"
    end
    local rest = international:sub(3)
    p = rest:sub(1, 1) == "0" and rest or "0" .. rest
  elseif p:find("^84%d+$") and (#p == 11 or #p == 12) then
    p = "0" .. p:sub(3)
  end
  if p:sub(1, 1) ~= "0" then return nil, "must start with 0, +84 or 84" end
  if #p < 10 then
    return nil, "too short: " .. #p .. " digits (a mobile number has 10, a landline 11)"
  end
  if #p > 11 then
    return nil, "too long: " .. #p .. " digits (a mobile number has 10, a landline 11)"
  end
  if #p == 11 and p:sub(1, 2) == "01" then
    local new = data.mobile_2018[p:sub(1, 4)]
    if not new then
      return nil, "old mobile prefix " .. p:sub(1, 4) .. " is not in the 2018 conversion table"
    end
    return new .. p:sub(5), "mobile"
  end
  if #p == 11 and p:sub(1, 2) == "02" then
    if data.landline_areas[p:sub(2, 4)] or data.landline_areas[p:sub(2, 3)] then
      return p, "landline"
    end
    return nil, "unknown landline area code after 0 in " .. p:sub(1, 4)
  end
  if #p == 10 and mobile_starts[p:sub(1, 2)] then
    return p, "mobile"
  end
  if #p == 10 and p:sub(1, 2) == "02" then
    return nil, "10 digits starting 02: landline numbers have 11 digits since 2017"
  end
  return nil, "not a Vietnamese mobile (10 digits, 03/05/07/08/09) or landline (11 digits, 02) number"
end

return M
