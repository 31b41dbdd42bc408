-- mekong.address -- expand the usual abbreviations of administrative unit
-- types in Vietnamese addresses.
--
--   local address = require "mekong.address"
--   address.expand("12 Lê Lợi, P.Bến Nghé, Q.1, TP.HCM")
--   --> "12 Lê Lợi, Phường Bến Nghé, Quận 1, Thành phố Hồ Chí Minh"
--
-- What is expanded, exactly (anything else is left as it is):
--   abbreviations: TP -> Thành phố, TX -> Thị xã, TT -> Thị trấn, Q -> Quận,
--   P -> Phường, X -> Xã, H -> Huyện; written upper case (TP, P), capitalized
--   (Tp) or lower case (tp, p);
--   only where a word starts: at the beginning or after a space, ",", ";" or
--   "(" -- never inside a word ("Phan", "Hà", "Xuân" stay);
--   and only in these shapes:
--     1. with a dot, then the name:            "P.Bến Nghé", "Q. 1", "tp.Huế"
--     2. directly followed by a number:        "P5", "Q10", "q3"
--     3. upper case, a space, then a number:   "Q 1", "P 12"
--     4. TP, TX, TT upper case, a space, then a capitalized word: "TP Huế", "TX Sơn Tây"
--   A single letter followed by a space and a name ("P Bến Nghé") is NOT
--   expanded: a lone capital is too often an initial.  A dot at the very
--   end ("... Q.") is left alone.
--   After an expansion of TP, "HCM" as a word becomes "Hồ Chí Minh"; the word
--   "TPHCM" (any case) becomes "Thành phố Hồ Chí Minh".
-- The expansion is followed by exactly one space; the rest of the text is
-- kept byte for byte (the result is NFC).  nil gives nil; invalid UTF-8 gives
-- nil and a message.
local vn = require "mekong.vn"

local M = {}

local units = {}
for abbr, full in pairs({ TP = "Thành phố", TX = "Thị xã", TT = "Thị trấn", Q = "Quận",
                          P = "Phường", X = "Xã", H = "Huyện" }) do
  units[abbr] = full
  units[abbr:sub(1, 1) .. abbr:sub(2):lower()] = full
  units[abbr:lower()] = full
end

local hcm = "Hồ Chí Minh"

-- Is the character at s[i] an upper-case letter (ASCII or Vietnamese)?
local function capital_at(s, i)
  local ch = s:match("^[%z\1-\127\194-\244][\128-\191]*", i)
  return ch ~= nil and ch ~= "" and vn.upper(ch) == ch and vn.lower(ch) ~= ch
end

-- Where the name after the abbreviation word s[a..b] starts, if it is to be expanded.
local function name_start(s, word, b)
  local c = s:sub(b + 1, b + 1)
  if c == "." then
    local p = s:match("^%s*()", b + 2)
    if p <= #s then return p end
  elseif c:find("^%d$") then
    return b + 1
  elseif c:find("^%s$") and word == word:upper() then
    local p = s:match("^%s*()", b + 1)
    local nc = s:sub(p, p)
    if nc:find("^%d$") or (#word == 2 and capital_at(s, p)) then return p end
  end
  return nil
end

function M.expand(s)
  if s == nil then return nil end
  if type(s) ~= "string" then error("expand: the address must be a string (got " .. type(s) .. ")", 2) end
  local text, why = vn.nfc(s)
  if not text then return nil, why end
  local out, i = {}, 1
  while true do
    local a, b, word = text:find("(%a+)", i)
    if not a then break end
    local prev = a == 1 and " " or text:sub(a - 1, a - 1)
    local next_byte = text:byte(b + 1)
    local at_start = prev:find("^[%s,;(]$") ~= nil
    local whole_word = next_byte == nil or next_byte < 128 and not string.char(next_byte):find("%w")
    local full = at_start and units[word]
    local p = full and name_start(text, word, b)
    if p then
      out[#out + 1] = text:sub(i, a - 1) .. full .. " "
      i = p
      if full == units.TP then
        local e = text:match("^HCM()", p)
        if e and not (text:sub(e, e):find("^[%w\128-\255]$")) then
          out[#out + 1] = hcm
          i = e
        end
      end
    elseif at_start and whole_word and word:upper() == "TPHCM" then
      out[#out + 1] = text:sub(i, a - 1) .. units.TP .. " " .. hcm
      i = b + 1
    else
      out[#out + 1] = text:sub(i, b)
      i = b + 1
    end
  end
  out[#out + 1] = text:sub(i)
  return table.concat(out)
end

return M
