columns = { add = { "agency" } }
local agency
function setup(p)
  agency = p.agency
end
function process(row)
  row.agency = agency
  count("rows")
  if row.note == "twins" then
    emit{ full_name = row.full_name .. params.twin_suffix, id = row.id .. "b" }
    count("twins")
  end
end
function finish(totals)
  emit{ id = "total", full_name = string.format("%d rows, %d twins", totals.rows, totals.twins),
        agency = agency }
end
