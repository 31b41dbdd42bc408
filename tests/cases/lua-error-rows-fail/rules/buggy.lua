function process(row)
  -- a bug: phone is NULL on row 3, and nil has no length
  if #row.phone < 10 then
    row.phone = row.phone .. "?"
  end
end
