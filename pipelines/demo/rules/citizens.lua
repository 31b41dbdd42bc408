-- rules/citizens.lua -- clean and validate the demo's citizen rows.
--
-- Runs after the per-source map steps, so every row has the same columns:
-- agency, province, national_id, full_name, birth_date, sex, phone, address.
--
-- Rules (names as they appear in the rejects file and the report):
--   name        full_name must not be empty (it is trimmed, collapsed, title-cased)
--   sex         Nam/Nữ/Nu/M/F (any case) become male/female (id.sex); anything else is rejected
--   birth_date  the province's date form, to ISO 8601; impossible dates are rejected
--   cccd        12-digit citizen ID, consistent with the birth date and sex
--   phone       normalized to today's 10-digit mobile form (landlines kept, 11 digits)
--   address     a warning when there is none (abbreviations are expanded otherwise)
local text = require "mekong.text"
local id = require "mekong.id"
local date = require "mekong.date"
local address = require "mekong.address"

-- How each province writes dates: Hà Nội dd/mm/yyyy and d/m/yyyy, Đà Nẵng yyyy-mm-dd.
local DATE_FORMS = {
  ["Hà Nội"] = { "dmy" },
  ["Đà Nẵng"] = { "iso" },
}
local ANY_FORM = { "dmy", "iso" }

local clean = text.clean -- NFC, trimmed, collapsed; nil when empty

function process(row)
  -- name
  local name = clean(row.full_name)
  check("name", name ~= nil, "full_name is empty")
  row.full_name = text.title(name)

  -- sex
  local sex = clean(row.sex)
  if sex ~= nil then
    local mapped, why = id.sex(sex)
    check("sex", mapped ~= nil, why)
    row.sex = mapped
  end

  -- birth date
  local raw_date = clean(row.birth_date)
  if raw_date ~= nil then
    local iso, why = date.to_iso(raw_date, DATE_FORMS[row.province] or ANY_FORM)
    check("birth_date", iso ~= nil, why)   -- why names the value: "30/02/1990: month 2 of ..."
    row.birth_date = iso
  else
    row.birth_date = nil
  end

  -- citizen ID, checked against the birth date and sex when they are known
  local cccd = clean(row.national_id)
  if cccd == nil then
    check("cccd", false, "national_id is missing")
  end
  local r = id.cccd(cccd, { birth_date = row.birth_date, sex = row.sex })
  check("cccd", r.valid, "national_id '" .. cccd .. "': " .. tostring(r.reason))
  row.national_id = cccd

  -- phone
  local raw_phone = clean(row.phone)
  if check_warn("phone", raw_phone ~= nil, "no phone number") then
    local phone, kind_or_reason, reason = id.phone(raw_phone)
    if phone == nil then
      reject("phone", "phone '" .. raw_phone .. "': " .. tostring(reason or kind_or_reason))
    end
    row.phone = phone
  end

  -- address
  local addr = clean(row.address)
  if check_warn("address", addr ~= nil, "no address") then
    row.address = address.expand(addr)
  else
    row.address = nil
  end
end
