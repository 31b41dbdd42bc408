-- rules/registry.lua -- harmonize one citizen row from any of the three registries.
--
-- Input columns (after the per-source map steps):
--   registry, national_id, full_name, birth_date, sex, phone, old_province
-- Added: province_code, province_name (the 2025 province), birth_province
-- (from the citizen ID), phone_kind (mobile or landline).
--
-- Rules (names in the rejects file and the report):
--   name         full_name must not be empty; trimmed, collapsed, title-cased
--   sex          Nam/Nữ/M/F to male/female
--   birth_date   each registry's own date forms to ISO 8601 (a year alone stays a year)
--   cccd         12-digit citizen ID consistent with the birth year/date and sex
--   phone        today's 10-digit mobile form or an 11-digit landline (warns when missing)
--   province     the old (pre-2025) province, by code or by name, mapped to the 2025 one
--
-- params: provinces = the old->new province table, relative to the pipeline folder.
columns = { add = { "province_code", "province_name", "birth_province", "phone_kind" } }

local text = require "mekong.text"
local id = require "mekong.id"
local date = require "mekong.date"
local lookup = require "mekong.lookup"

-- How each registry writes dates.
local DATE_FORMS = {
  police = { "dmy" },              -- 05/03/1985
  insurance = { "dmy", "year" },   -- 5/3/1985, or only 1985 in old records
  labour = { "iso" },              -- 1985-03-05
}

local SEX = {
  nam = "male", m = "male", male = "male",
  ["nữ"] = "female", f = "female", female = "female",
}

local by_code, by_name   -- old province code -> row, name key -> row

-- Province names are compared without the unit type, tone marks or case:
-- "Tỉnh Khánh Hoà", "Khánh Hòa" and "Khanh Hoa" are one key.
local function province_key(s)
  s = text.lower(text.collapse(text.trim(s)))
  s = s:gsub("^tỉnh%s+", ""):gsub("^thành phố%s+", ""):gsub("^tp%.%s*", "")
  return text.fold(s)
end

function setup(params)
  local path = params.provinces or "data/province_2025.csv" -- relative: to the pipeline folder
  by_code = lookup.load(path, { key = "old_code" })
  by_name = lookup.load(path, { key = "old_name", normalize = province_key })
end

local clean = text.clean -- NFC, trimmed, collapsed; nil when empty

function process(row)
  -- name
  local name = clean(row.full_name)
  check("name", name ~= nil, "full_name is empty")
  row.full_name = text.title(name)

  -- sex
  local sex = clean(row.sex)
  local mapped = sex and SEX[text.lower(sex)]
  check("sex", mapped ~= nil, "sex '" .. tostring(sex) .. "' is not Nam/Nữ/M/F")
  row.sex = mapped

  -- birth date, in the forms of the row's registry
  local raw_date = clean(row.birth_date)
  local forms = DATE_FORMS[row.registry]
  if forms == nil then
    error("unknown registry '" .. tostring(row.registry) .. "'")
  end
  local iso, why
  if raw_date ~= nil then iso, why = date.to_iso(raw_date, forms) end
  check("birth_date", iso ~= nil, why or "birth_date is missing")  -- why names the value
  row.birth_date = iso

  -- citizen ID, checked against the birth year and sex
  local cccd = clean(row.national_id)
  if cccd == nil then check("cccd", false, "national_id is missing") end
  local r = id.cccd(cccd, { birth_date = iso, sex = row.sex })
  check("cccd", r.valid, "national_id '" .. cccd .. "': " .. tostring(r.reason))
  row.national_id = cccd
  row.birth_province = r.province_name

  -- phone
  local raw_phone = clean(row.phone)
  if check_warn("phone", raw_phone ~= nil, "no phone number") then
    local phone, kind, reason = id.phone(raw_phone)
    if phone == nil then
      reject("phone", "phone '" .. raw_phone .. "': " .. tostring(reason or kind))
    end
    row.phone, row.phone_kind = phone, kind
  else
    row.phone = nil
  end

  -- province: police sends the old code, the others the old name
  local old = clean(row.old_province)
  local p
  if old ~= nil then
    if old:match("^%d%d?$") then
      p = by_code[string.format("%02d", tonumber(old))]
    else
      p = by_name[province_key(old)]
    end
  end
  check("province", p ~= nil, "province '" .. tostring(old) .. "' is not one of the 63 old provinces")
  row.old_province = old
  row.province_code = p.new_code
  row.province_name = p.new_name
end
