-- bench/schema/bench.lua -- the checks of bench.schema.json written as a
-- Lua rule (bench/schema.sh runs it next to the schema plugin and DuckDB):
-- the same types, patterns, enum, date format and primary key.
local seen = {}
local mdays = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }
local function valid_date(y, m, d)
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  if m < 1 or m > 12 or d < 1 then return false end
  local leap = (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0
  return d <= (m == 2 and leap and 29 or mdays[m])
end

function process(row)
  local id = row.national_id
  if not id then reject("constraint-error", "national_id is required") end
  if not id:find("^%d%d%d%d%d%d%d%d%d%d%d%d$") then
    reject("constraint-error", "national_id does not match [0-9]{12}")
  end
  local name = row.full_name
  if not name or name == "" then reject("constraint-error", "full_name is required") end
  if utf8.len(name) > 100 then reject("constraint-error", "full_name is too long") end
  local b = row.birth_date
  if b and b ~= "" then
    local y, m, d = b:match("^(%d%d%d%d)-(%d%d?)-(%d%d?)$")
    if not y or not valid_date(y, m, d) then reject("type-error", "birth_date is not a date") end
    if tonumber(y) < 1900 then reject("constraint-error", "birth_date before 1900") end
  end
  local sex = row.sex
  if sex and sex ~= "" and sex ~= "Nam" and sex ~= "Nữ" then
    reject("constraint-error", "sex is not in the enum")
  end
  local p = row.phone
  if p and p ~= "" then
    -- (\+84 ?|0)[0-9 ]{8,12}: after +84, 8..12 of [0-9 ], or a blank and 8..12
    local rest = p:match("^%+84([%d ]+)$")
    local ok = rest and (#rest >= 8 and #rest <= 12 or (#rest == 13 and rest:sub(1, 1) == " "))
    if not rest then
      rest = p:match("^0([%d ]+)$")
      ok = rest and #rest >= 8 and #rest <= 12
    end
    if not ok then reject("constraint-error", "phone pattern") end
  end
  local t = row.registered_at
  if t and t ~= "" then
    local y, m, d, hh, mi, ss = t:match("^(%d%d%d%d)-(%d%d)-(%d%d)[T ](%d%d):(%d%d):(%d%d)$")
    if not y or not valid_date(y, m, d) or tonumber(hh) > 23 or tonumber(mi) > 59 or tonumber(ss) > 60 then
      reject("type-error", "registered_at is not a datetime")
    end
  end
  if seen[id] then reject("primary-key", "national_id repeats") end
  seen[id] = true
end
