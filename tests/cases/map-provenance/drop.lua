function process(row) if row.ma == "2" then drop() end end
