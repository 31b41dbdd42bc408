function process(row) end
