-- Names as the national dataset writes them: TCVN3's lost capitals back, old tone placement.
local text = require "mekong.text"
function process(row)
  row.full_name = text.restore_case(text.clean(row.full_name, { tone_style = "old" }), "name")
end
