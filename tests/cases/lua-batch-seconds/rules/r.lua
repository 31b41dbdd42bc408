function process(row)
  while true do end
end
