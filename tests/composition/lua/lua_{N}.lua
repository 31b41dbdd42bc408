-- The lua fixture: drops rows marked drop, rejects rows marked bad, and adds
-- lua_{N}, the name's length in characters (UTF-8 letters count once).
columns = { add = { "lua_{N}" } }

function process(row)
  if row.flag == "drop" then drop() end
  if row.flag == "bad" then reject("flag.bad", "row " .. row.id .. " is marked bad") end
  row["lua_{N}"] = utf8.len(row.name)
end
