-- a rule after dedupe rejects one of the rows dedupe released at the end:
-- the reject still names the row's source and record
function process(row)
  check("no_ba", row.ghi_chu ~= "ba", "ghi_chu ba is refused after dedupe")
end
