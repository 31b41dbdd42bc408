function process(row) end
function finish()
  for i = 1, 2000000 do
    pcall(emit, { id = tostring(i), name = "row" })
  end
end
