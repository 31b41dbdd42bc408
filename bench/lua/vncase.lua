-- bench/lua/vncase.lua -- the text helpers the benchmark rules need:
-- mekong.text when the rule library is installed, otherwise plain-Lua
-- stand-ins (Vietnamese upper/title case by a table of the precomposed
-- letters; no NFC).  M.source says which one is in use.
local ok, text = pcall(require, "mekong.text")
local M = {}

local lower = "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
local upper = "ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴĐ"
local up, down = {}, {}
do
  local l, u = {}, {}
  for _, c in utf8.codes(lower) do l[#l + 1] = utf8.char(c) end
  for _, c in utf8.codes(upper) do u[#u + 1] = utf8.char(c) end
  for i = 1, #l do up[l[i]] = u[i]; down[u[i]] = l[i] end
end

local function plain_upper(s) return (s:upper():gsub("[\xC2-\xF4][\x80-\xBF]+", up)) end
local function plain_lower(s) return (s:lower():gsub("[\xC2-\xF4][\x80-\xBF]+", down)) end
local function plain_trim(s) return s:match("^%s*(.-)%s*$") end
local function plain_title(s)
  return (plain_lower(s):gsub("([%z\1-\127\194-\244][\128-\191]*)([^%s]*)", function(first, rest)
    return plain_upper(first) .. rest
  end))
end

if ok and type(text) == "table" and text.upper and text.trim and text.title and text.nfc then
  M.source = "mekong.text"
  M.upper, M.trim, M.title, M.nfc = text.upper, text.trim, text.title, text.nfc
else
  M.source = "plain Lua stand-ins (mekong.text not available: no NFC)"
  M.upper, M.trim, M.title = plain_upper, plain_trim, plain_title
  M.nfc = function(s) return s end
end
return M
