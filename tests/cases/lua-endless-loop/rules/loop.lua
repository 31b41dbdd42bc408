function process(row)
  if row.id == "3" then
    local n = 0
    while true do n = n + 1 end
  end
end
