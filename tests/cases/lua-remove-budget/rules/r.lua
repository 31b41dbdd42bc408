local huge = setmetatable({}, {__len = function() return math.maxinteger - 1 end})
function process(row)
  table.remove(huge, 1)
end
