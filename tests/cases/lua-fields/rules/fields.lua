-- changes, adds and removes fields
columns = { add = { "name_upper", "has_phone" }, remove = { "note" } }

function process(row)
  row.full_name = row.full_name:match("^%s*(.-)%s*$")   -- change
  row.name_upper = row.full_name:upper()                -- add (ASCII upper: bytes only)
  row.has_phone = row.phone and "yes" or "no"           -- NULL reads as nil
  if row.note == "b" then row.phone = nil end           -- assigning nil makes NULL
end
