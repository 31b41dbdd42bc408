-- Rows of source b have no phone column: reading it there gives nil
-- because it is declared optional; any other missing column is a typo.
columns = { add = { "contact" }, optional = { "phone" } }

function process(row)
  row.contact = row.phone or ("no phone for " .. row.name)
end
