local huge = setmetatable({}, {__len = function() return math.maxinteger - 1 end})
function process(row)
  table.insert(huge, 1, 0)
end
