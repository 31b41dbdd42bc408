local function numbers(n)
  local t = {}
  for i = 1, n do t[i] = i end
  return t
end

function process(row)
  if row.id == "1" then -- overlapping, so Lua moves backward
    local t = numbers(200000)
    table.move(t, 1, 200000, 3)
    row.v = table.concat({t[1], t[2], t[3], t[100000], t[200002], #t}, " ")
  elseif row.id == "2" then -- overlapping the other way: forward
    local t = numbers(200000)
    table.move(t, 3, 200000, 1)
    row.v = table.concat({t[1], t[199998], t[199999], t[200000]}, " ")
  elseif row.id == "3" then -- to another table, and a small move
    local a, b = numbers(150000), {}
    local r = table.move(a, 10, 150000, 1, b)
    local s = table.move({1, 2, 3}, 1, 3, 2)
    row.v = table.concat({#b, b[1], b[149991], tostring(r == b), #s, s[1], s[4]}, " ")
  elseif row.id == "4" then -- insert and remove at both ends of a long table
    local t = numbers(100000)
    table.insert(t, 1, 0)
    table.insert(t, 50)
    local first, last = table.remove(t, 1), table.remove(t)
    local _, e1 = pcall(table.insert, {}, 5, 1)
    local _, e2 = pcall(table.insert, {}, 1, 2, 3)
    local _, e3 = pcall(table.remove, {}, 3)
    row.v = table.concat({#t, t[1], t[100000], first, last, tostring(table.remove({})),
      e1, e2, e3}, " ")
  else
    row.v = #string.rep("", math.maxinteger) .. " " .. #string.rep("", math.maxinteger, "") ..
      " " .. string.rep("ab", 3, "-") .. " " .. string.rep("x", 0)
  end
end
