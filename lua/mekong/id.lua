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

-- "male"/"female" from the ways a sex column is written (nil if unknown).
local sexes = {
  male = "male", m = "male", nam = "male",
  female = "female", f = "female", ["nữ"] = "female", nu = "female",
}
local function sex_of(s)
  local key = vn.lower(vn.trim(vn.nfc(s) or ""))
  return key and sexes[key]
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
  if tonumber(r.birth_year) > current_year() then
    r.reason = "birth year " .. r.birth_year .. " (century digit " .. r.century_digit ..
      ") is in the future"
    return r
  end
  if opts and opts.birth_date ~= nil then
    local y = tostring(opts.birth_date):match("^%s*(%d%d%d%d)")
    if not y then
      r.reason = "birth_date '" .. tostring(opts.birth_date) .. "' does not start with a year (yyyy-mm-dd)"
      return r
    end
    if y ~= r.birth_year then
      r.reason = "birth year " .. r.birth_year .. " in the ID does not match birth_date " ..
        tostring(opts.birth_date)
      return r
    end
  end
  if opts and opts.sex ~= nil then
    local want = sex_of(tostring(opts.sex))
    if not want then
      r.reason = "sex '" .. tostring(opts.sex) .. "' is not one of male, female, nam, nữ, m, f"
      return r
    end
    if want ~= r.sex then
      r.reason = "the ID is of a " .. r.sex .. " (century digit " .. r.century_digit ..
        "), sex says " .. want
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

-- phone(s) -> normalized, kind ("mobile" or "landline"), or nil, reason.
-- Strips spaces, dots, hyphens and parentheses; +84 / 0084 / 84 become 0;
-- old 11-digit mobile numbers (01xx) get their 2018 10-digit prefix;
-- landlines are 0 + area code (2x or 2xx) + subscriber, 11 digits.
local mobile_starts = { ["03"] = true, ["05"] = true, ["07"] = true, ["08"] = true, ["09"] = true }
function M.phone(s)
  if s == nil then return nil end
  if type(s) ~= "string" then error("phone: the number must be a string (got " .. type(s) .. ")", 2) end
  local p = s:gsub("[%s%.%-%(%)]", "")
  if p:find("^%+84") then
    p = "0" .. p:sub(4)
  elseif p:find("^0084") then
    p = "0" .. p:sub(5)
  elseif p:find("^84%d+$") and (#p == 11 or #p == 12) then
    p = "0" .. p:sub(3)
  end
  if p == "" then return nil, "empty" end
  if not p:find("^%d+$") then return nil, "has characters other than digits and + . - ( ) space" end
  if p:sub(1, 1) ~= "0" then return nil, "must start with 0, +84 or 84" end
  if #p == 11 and p:sub(1, 2) == "01" then
    local new = data.mobile_2018[p:sub(1, 4)]
    if not new then return nil, "old mobile prefix " .. p:sub(1, 4) .. " is not in the 2018 conversion table" end
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
