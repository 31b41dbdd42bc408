local mt = {__gc = function() while true do end end}
local t = setmetatable({}, mt)
function process(row) end
