-- bench/lua/six.lua -- benchmark (b): six rules per row: trim, title case,
-- NFC, citizen ID check, phone normalization, date to ISO 8601.
local vn = require "vncase"
local trim, title, nfc = vn.trim, vn.title, vn.nfc

local old_mobile = { ["0162"] = "032", ["0163"] = "033", ["0164"] = "034", ["0165"] = "035",
  ["0166"] = "036", ["0167"] = "037", ["0168"] = "038", ["0169"] = "039", ["0120"] = "070",
  ["0121"] = "079", ["0122"] = "077", ["0126"] = "076", ["0128"] = "078", ["0123"] = "083",
  ["0124"] = "084", ["0125"] = "085", ["0127"] = "081", ["0129"] = "082" }

local function iso_date(s)
  local d, m, y = s:match("^(%d%d?)/(%d%d?)/(%d%d%d%d)$")
  if not d then y, m, d = s:match("^(%d%d%d%d)-(%d%d)-(%d%d)$") end
  if not d then return nil end
  d, m, y = tonumber(d), tonumber(m), tonumber(y)
  local mdays = { 31, (y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0)) and 29 or 28,
                  31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }
  if m < 1 or m > 12 or d < 1 or d > mdays[m] then return nil end
  return string.format("%04d-%02d-%02d", y, m, d)
end

function process(row)
  row.full_name = nfc(title(trim(row.full_name)))                  -- 1, 2, 3
  local id = row.national_id
  check("cccd", id and #id == 12 and id:find("^%d+$") ~= nil, "national_id must be 12 digits")
  local century = tonumber(id:sub(4, 4))                           -- 4
  check_warn("cccd.century", century <= 3, "century/sex digit out of range")
  local p = row.phone:gsub("^%+84", "0"):gsub("^0084", "0"):gsub("^84(%d%d%d%d%d%d%d%d%d)$", "0%1")
  if #p == 11 then p = (old_mobile[p:sub(1, 4)] or p:sub(1, 4)) .. p:sub(5) end
  check_warn("phone", #p == 10, "phone is not 10 digits")            -- 5
  row.phone = p
  local iso = iso_date(row.birth_date)                              -- 6
  check("birth_date", iso ~= nil, "not a date")
  row.birth_date = iso
end
