function process(row)
  -- a bug on every row: Lua strings have no split method
  local words = row.full_name:split(" ")
  row.full_name = table.concat(words, " ")
end
