-- A record id for the national platform: source name and record number
-- (not the physical line, which is wrong once a record spans two lines).
columns = { add = { "record_id" } }

function process(row)
  local o = origin()
  row.record_id = o.source .. "-" .. o.record
  if row.note == "bad" then reject("note.bad", "the note says bad") end
end
