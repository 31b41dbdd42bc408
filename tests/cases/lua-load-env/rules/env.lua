-- a chunk from load() sees the rule's globals unless it is given an env
columns = { add = { "pi", "own" } }
local pi = load("return math.floor(math.pi * 100)")()
local own = load("return x", "own", "t", { x = "mine" })()

function process(row)
  row.pi = tostring(pi)
  row.own = own
end
