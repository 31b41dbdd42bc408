-- tags the city, drops the row named "drop me", emits a copy of row 1
function process(row)
  if row.name == "drop me" then drop() end
  if row.city then row.city = row.city .. " (VN)" end
  if row.id == "1" then emit{ id = "1b", note = NULL } end
end
