-- mekong.lookup -- CSV mapping tables (code lists, old -> 2025 units),
-- loaded once per Lua state and looked up in constant time.
--
--   local lookup = require "mekong.lookup"
--   local units = lookup.load(params.units_csv, { key = "old_code", value = "new_code" })
--   row.ward_code = units[row.ward_code] or row.ward_code
--
-- load(path, opts) reads the CSV file at path (a relative path is taken from
-- the pipeline's folder, like every path of the pipeline file; in `mekong
-- test`, from the test file's folder), whose first line is the header.  It returns a Lua table
-- from each key to its value; with no opts.value, to the whole row (a table
-- column -> value).  All keys and values are strings.
--   opts.key         column of the keys (required)
--   opts.value       column of the values (optional)
--   opts.duplicates  "error" (default: a key twice fails the load), "first" or "last"
--   opts.normalize   a function applied to every key when loading (for instance
--                    one that folds case and tones); apply the same function to
--                    what you look up: map[normalize(s)]
-- The same file with the same opts is read once per Lua state (each worker
-- thread has its own) and shared by every later call: do not change the
-- table.  Errors (no such file, a missing column, a malformed line) are
-- raised with the file and line: they end the run when loading in setup or
-- at the top of the rule file.
-- CSV: comma-separated, fields in double quotes may hold commas, quotes
-- (doubled) and line breaks; LF or CRLF line ends; a UTF-8 BOM is skipped;
-- blank lines are skipped.
local M = {}

local cache = {}

-- Calls on_record(fields, line) for every record of text.
local function parse_csv(text, path, on_record)
  local i, n, line = 1, #text, 1
  if text:sub(1, 3) == "\239\187\191" then i = 4 end
  local record, record_line = {}, 1
  while i <= n do
    local value
    if text:byte(i) == 34 then -- a quoted field
      local parts, j = {}, i + 1
      while true do
        local q = text:find('"', j, true)
        if not q then error(path .. ":" .. line .. ": a quoted field is not closed", 0) end
        parts[#parts + 1] = text:sub(j, q - 1)
        if text:byte(q + 1) == 34 then
          parts[#parts + 1] = '"'
          j = q + 2
        else
          i = q + 1
          break
        end
      end
      value = table.concat(parts)
      for _ in value:gmatch("\n") do line = line + 1 end
    else
      local e = text:find('[,\r\n"]', i) or n + 1
      if text:byte(e) == 34 then
        error(path .. ":" .. line .. ": a quote inside a field that does not start with one", 0)
      end
      value = text:sub(i, e - 1)
      i = e
    end
    record[#record + 1] = value
    local b = text:byte(i)
    if b == 44 then -- ,
      i = i + 1
      if i > n then record[#record + 1] = "" end
    elseif b == 13 or b == 10 or b == nil then
      if b == 13 then i = i + 1 end
      if text:byte(i) == 10 then i = i + 1 end
      if not (#record == 1 and record[1] == "") then on_record(record, record_line) end
      record = {}
      line = line + 1
      record_line = line
    else
      error(path .. ":" .. line .. ": a quoted field must be followed by a comma or a line end", 0)
    end
  end
  if #record > 0 then on_record(record, record_line) end
end

function M.load(path, opts)
  if type(path) ~= "string" then error("lookup.load: the path must be a string", 2) end
  if type(opts) ~= "table" or type(opts.key) ~= "string" then
    error("lookup.load: opts.key (the key column) is required", 2)
  end
  local dup = opts.duplicates or "error"
  if dup ~= "error" and dup ~= "first" and dup ~= "last" then
    error("lookup.load: opts.duplicates must be error, first or last", 2)
  end
  local norm = opts.normalize
  if norm ~= nil and type(norm) ~= "function" then
    error("lookup.load: opts.normalize must be a function", 2)
  end
  local id = table.concat({ path, opts.key, opts.value or "", dup, norm and tostring(norm) or "" }, "\0")
  if cache[id] then return cache[id] end

  -- pcall: a path the sandbox refuses is reported at the caller's line too
  local ok, f, err = pcall(io.open, path, "rb")
  if not ok then error("lookup.load: " .. tostring(f), 2) end
  if not f then error("lookup.load: " .. err, 2) end
  local text, rerr = f:read("a")
  f:close()
  if not text then error("lookup.load: " .. path .. ": " .. tostring(rerr), 2) end

  local map, header, key_col, value_col = {}, nil, nil, nil
  parse_csv(text, path, function(record, line)
    if not header then
      header = record
      for c, name in ipairs(header) do
        if name == opts.key then key_col = c end
        if name == opts.value then value_col = c end
      end
      if not key_col or (opts.value and not value_col) then
        error(path .. ":1: no column '" .. (key_col and opts.value or opts.key) ..
          "' (columns: " .. table.concat(header, ", ") .. ")", 0)
      end
      return
    end
    if #record ~= #header then
      error(path .. ":" .. line .. ": " .. #record .. " fields, the header has " .. #header, 0)
    end
    local key = record[key_col]
    if norm then
      key = norm(key)
      if type(key) ~= "string" then
        error(path .. ":" .. line .. ": opts.normalize gave no string for '" .. record[key_col] .. "'", 0)
      end
    end
    local value
    if value_col then
      value = record[value_col]
    else
      value = {}
      for c, name in ipairs(header) do value[name] = record[c] end
    end
    if map[key] ~= nil then
      if dup == "error" then
        error(path .. ":" .. line .. ": key '" .. key .. "' again (opts.duplicates: first or last to allow it)", 0)
      elseif dup == "first" then
        return
      end
    end
    map[key] = value
  end)
  if not header then error(path .. ": empty file (a header line is needed)", 0) end
  cache[id] = map
  return map
end

return M
