-- mekong.text -- text clean-up for rules: the C functions of mekong.vn
-- under their documented names (docs/RULES.md, "The rule library").
--
--   local text = require "mekong.text"
--   row.full_name = text.title(text.collapse(row.full_name))
--
-- Every function returns nil for nil, and nil plus a message for text that
-- is not valid UTF-8 (decode excepted: it takes legacy bytes).
local vn = require "mekong.vn"

-- clean(s): the usual first step for a text field -- NFC, trimmed, inner
-- white space collapsed -- and nil when nothing is left.
local function clean(s)
  local t, err = vn.nfc(s)
  if t == nil then return nil, err end
  t = vn.collapse(t)
  if t == "" then return nil end
  return t
end

return {
  clean = clean,                  -- nfc + collapse (which trims); "" -> nil
  trim = vn.trim,                 -- Unicode spaces off both ends
  collapse = vn.collapse,         -- runs of spaces -> one ASCII space, ends trimmed
  upper = vn.upper,               -- Vietnamese-correct case mapping (utf8proc)
  lower = vn.lower,
  title = vn.title,               -- first letter of each word upper, the rest lower
  nfc = vn.nfc,                   -- Unicode NFC
  fold = vn.fold,                 -- matching key: lower case, no tones or diacritics, đ -> d
  tone_key = vn.tone_key,         -- hòa = hoà, thủy = thuỷ: tone moved to the end of each syllable
  restore_case = vn.restore_case, -- after TCVN3: "name" or "heading"
  decode = vn.decode,             -- legacy bytes (tcvn3, vni, viscii, cp1258, ...) -> UTF-8 NFC
}
