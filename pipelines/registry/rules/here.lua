-- require "here": paths of the pipeline's own files.
--
-- In the sandbox io.open reads paths relative to the working directory, which
-- is not the pipeline's folder when mekong runs as `mekong run
-- pipelines/registry/pipeline.yaml`.  require hands a module the path it was
-- loaded from, and this module lives in rules/, so the pipeline folder is
-- the one above.
local file = select(2, ...)
local rules_dir = file:match("^(.*)/[^/]*$") or "."
local M = {}

-- pipeline_path("data/x.csv"): that file of the pipeline folder.
function M.pipeline_path(rel)
  if rel:sub(1, 1) == "/" then return rel end
  return rules_dir .. "/../" .. rel
end

return M
