columns = { add = { "id_len", "id_plus_one" } }
function process(row)
  row.id_len = #row.national_id          -- an integer becomes its decimal digits
  row.id_plus_one = row.id .. "1"
  if row.id == "4" then row.phone = 1.5 end   -- a float is an error: how should it look?
end
