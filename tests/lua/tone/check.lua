-- tests/lua/tone/check.lua -- rejects a row whose word vn.tone_style does not
-- turn into want (tests/scripts/tone-style.sh).
local vn = require "mekong.vn"

function process(row)
  local got = vn.tone_style(row.word, row.style)
  if got ~= row.want then
    reject("tone_style", row.word .. " in the " .. row.style .. " style gave " .. tostring(got) ..
      ", expected " .. row.want)
  end
end
