-- Each row tries to read row.path one way; what it read goes to row.got.
local lookup = require "mekong.lookup"
columns = { add = { "got" } }

local function open_first_line(path)
  local f = io.open(path)
  if not f then return "(missing)" end
  local line = f:read("l")
  f:close()
  return line
end

local function lines_first(path)
  for line in io.lines(path) do return line end
end

function process(row)
  local what, path = row.what, row.path
  if what == "open" then row.got = open_first_line(path) end
  if what == "lines" then row.got = lines_first(path) end
  if what == "lookup" then row.got = lookup.load(path, { key = "code", value = "name" })["01"] end
  if what == "require" then row.got = tostring(require(path)) end
end
