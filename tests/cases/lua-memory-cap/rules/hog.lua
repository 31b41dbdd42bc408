local kept = {}
function process(row)
  if row.id == "5" then
    while true do
      kept[#kept + 1] = string.rep(row.full_name, 1000) .. #kept
    end
  end
end
