-- bench/lua/filter.lua -- benchmark (a): trim full_name, upper-case the
-- province (Vietnamese letters too, through the rule library), keep rows
-- whose national_id has 12 digits.
local text = require "mekong.text"
local upper, trim = text.upper, text.trim
function process(row)
  local id = row.national_id
  if not (id and #id == 12 and id:find("^%d+$")) then drop() end
  row.full_name = trim(row.full_name)
  row.province = upper(row.province)
end
