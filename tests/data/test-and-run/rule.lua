-- The rule that tests/scripts/test-and-run.sh runs both with `mekong test`
-- and in a pipeline: library calls, every fate, a warning, two rows of one,
-- and a Lua error on a NULL.
local id = require "mekong.id"
local text = require "mekong.text"

columns = { add = { "name_len" } }

function process(row)
  row.full_name = text.clean(row.full_name)
  if row.note == "test" then drop() end
  local c = id.cccd(row.national_id)
  check("cccd", c and c.valid, c and c.reason or "no citizen ID")
  if row.phone == nil then warn("phone", "no phone number") end
  row.name_len = #row.full_name + 0          -- a NULL name is a Lua error
  if row.note == "twins" then
    emit{ national_id = row.national_id, full_name = row.full_name .. " (2)", note = "twin",
          name_len = row.name_len }
  end
end
