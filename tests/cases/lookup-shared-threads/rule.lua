-- Two tables: one loaded in setup, one in process(); both shared by the two
-- workers (lookup.shared_count() counts the parsed tables of the run).
local lookup = require "mekong.lookup"
columns = { add = { "ten_xa", "ten_xa2", "shared" } }
local wards

function setup()
  wards = lookup.load("wards.csv", { key = "ward_code", value = "name", normalize = { pad = 5 } })
end

function process(row)
  row.ten_xa = wards[row.ma_xa]
  -- loading in process() works: the file is read once per worker, parsed once
  local again = lookup.load("wards.csv", { key = "ward_code", value = "name",
                                           normalize = { "trim", pad = 5 } })
  row.ten_xa2 = again[" " .. row.ma_xa .. " "]
  row.shared = tostring(lookup.shared_count())
  local ok, err = pcall(function() wards["1"] = "x" end)
  if ok or not err:find("read-only", 1, true) then reject("readonly", tostring(err)) end
  -- what the tables must give: the name of the code, zero padded to 5
  local want = "Phường " .. tonumber(row.ma_xa)
  if row.ten_xa ~= want or row.ten_xa2 ~= want then
    reject("lookup", tostring(row.ten_xa) .. " / " .. tostring(row.ten_xa2) .. ", expected " .. want)
  end
  -- two tables parsed in all, not one per worker and table (4)
  if row.shared ~= "2" then reject("shared", row.shared .. " tables parsed, expected 2") end
end
