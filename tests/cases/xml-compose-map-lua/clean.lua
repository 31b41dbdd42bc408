-- trims the name, checks the id, drops test rows, adds the name's length
columns = { add = { "name_len" } }

function process(row)
  if row.full_name == "test" then drop() end
  check("cccd", row.national_id and #row.national_id == 12, "national_id must have 12 digits")
  row.full_name = row.full_name:match("^%s*(.-)%s*$")
  row.name_len = utf8.len(row.full_name)
end
