columns = { add = { "name_key" } }

function process(row)
  row.name_key = row.full_name:lower()
  row.nam_key = row.name_key .. "!"          -- a typo: declared as name_key
end
