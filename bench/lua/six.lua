-- bench/lua/six.lua -- benchmark (b): six rules per row, all from the rule
-- library: trim, title case, NFC, citizen ID check, phone normalization,
-- date to ISO 8601.
local text = require "mekong.text"
local id = require "mekong.id"
local date = require "mekong.date"
local trim, title, nfc = text.trim, text.title, text.nfc
local cccd, phone, to_iso = id.cccd, id.phone, date.to_iso
local DATE_FORMS = { "iso", "dmy" }

function process(row)
  row.full_name = nfc(title(trim(row.full_name)))                -- 1, 2, 3
  local c = cccd(row.national_id)                                -- 4
  check("cccd", c and c.valid, c and c.reason or "missing")
  local p, why = phone(row.phone)                                -- 5
  check_warn("phone", p ~= nil, why)
  row.phone = p or row.phone
  local iso, bad = to_iso(row.birth_date, DATE_FORMS)            -- 6
  check("birth_date", iso ~= nil, bad)
  row.birth_date = iso
end
