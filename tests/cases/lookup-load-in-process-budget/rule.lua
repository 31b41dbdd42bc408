-- A table with a normalize function, loaded in process(): the function runs
-- for every key of the table, within the row's instruction budget.
local lookup = require "mekong.lookup"
local text = require "mekong.text"

function process(row)
  local t = lookup.load("codes.csv", { key = "code", value = "name", normalize = function(s) return text.fold(s) end })
  row.code = t[row.code]
end
