function process(row)
  check("cccd", #row.national_id == 12 and row.national_id ~= "000000000000", "bad citizen id")
end
