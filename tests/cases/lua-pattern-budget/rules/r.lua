function process(row)
  local s = string.rep("a", 3000)
  row.name = tostring(s:find(string.rep("a*", 12) .. "b"))
end
