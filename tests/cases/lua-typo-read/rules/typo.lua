local text = require "mekong.text"

function process(row)
  row.full_name = text.clean(row.fullname)   -- a typo: the column is full_name
end
