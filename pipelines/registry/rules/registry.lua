-- rules/registry.lua -- harmonize one citizen row from any of the three registries.
--
-- Input columns (after the per-source map steps):
--   registry, national_id, full_name, birth_date, sex, phone, old_province
-- Added: birth_province (from the citizen ID), phone_kind (mobile or landline).
-- The 2025 province is the admin step's (pipeline.yaml), not this file's.
--
-- Rules (names in the rejects file and the report):
--   name         full_name must not be empty; trimmed, collapsed, title-cased
--   sex          Nam/Nữ/Nu/M/F to male/female (id.sex)
--   birth_date   each registry's own date forms to ISO 8601 (a year alone stays a year)
--   cccd         12-digit citizen ID consistent with the birth year/date and sex
--   phone        today's 10-digit mobile form or an 11-digit landline (warns when missing)
columns = { add = { "birth_province", "phone_kind" } }

local text = require "mekong.text"
local id = require "mekong.id"
local date = require "mekong.date"

-- How each registry writes dates.
local DATE_FORMS = {
  police = { "dmy" },              -- 05/03/1985
  insurance = { "dmy", "year" },   -- 5/3/1985, or only 1985 in old records
  labour = { "iso" },              -- 1985-03-05
}

local clean = text.clean -- NFC, trimmed, collapsed; nil when empty

function process(row)
  -- name
  local name = clean(row.full_name)
  check("name", name ~= nil, "full_name is empty")
  row.full_name = text.title(name)

  -- sex
  local sex, why_sex = id.sex(clean(row.sex))
  check("sex", sex ~= nil, why_sex or "sex is missing")
  row.sex = sex

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

  row.old_province = clean(row.old_province)
end
