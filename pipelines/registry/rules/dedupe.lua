-- rules/dedupe.lua -- one row per citizen across the registries.
--
-- The registries overlap: the same citizen ID appears in the police registry
-- and in the insurance or labour one.  The first row of a citizen wins (the
-- sources are read in the order of the pipeline file, police first); later
-- ones are dropped on purpose and counted per registry ("duplicate.insurance").
--
-- The IDs seen are kept in memory, so this step runs on one thread (globals
-- are per thread) and needs about 100 bytes per citizen.
local seen = {}

function process(row)
  local key = row.national_id
  local first = seen[key]
  if first ~= nil then
    count("duplicate." .. row.registry)
    drop()
  end
  seen[key] = row.registry
end
