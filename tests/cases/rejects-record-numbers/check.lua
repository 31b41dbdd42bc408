function process(row)
  if row.note == "bad" then reject("note.bad", "the note says bad") end
end
