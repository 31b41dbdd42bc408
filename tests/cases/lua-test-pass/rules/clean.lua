columns = { add = { "status" } }
function process(row)
  row.full_name = row.full_name:match("^%s*(.-)%s*$")
  check("cccd", row.national_id ~= nil and row.national_id:match("^%d+$") ~= nil
                and #row.national_id == 12, "national_id must be 12 digits")
  check_warn("phone", row.phone ~= nil, "no phone")
  if row.note == "duplicate" then drop() end
  if row.note == "twins" then emit{ full_name = row.full_name .. " 2" } end
  row.status = "ok"
end
