-- mekong.text -- text clean-up for rules: the C functions of mekong.vn
-- under their documented names (docs/RULES.md, "The rule library").
--
--   local text = require "mekong.text"
--   row.full_name = text.title(text.collapse(row.full_name))
--
-- Every function returns nil for nil, and nil plus a message for text that
-- is not valid UTF-8 (decode excepted: it takes legacy bytes).
local vn = require "mekong.vn"

-- clean(s [, opts]): the usual first step for a text field -- NFC, trimmed,
-- inner white space collapsed -- and nil when nothing is left.
-- opts.tone_style = "old" | "new" also moves tone marks to that convention
-- (hòa / hoà, see tone_style).
local function clean(s, opts)
  local style
  if opts ~= nil then
    if type(opts) ~= "table" then
      error("clean: options must be a table such as { tone_style = \"old\" }", 2)
    end
    style = opts.tone_style
    for k in pairs(opts) do
      if k ~= "tone_style" then
        error("clean: unknown option '" .. tostring(k) .. "' (known: tone_style)", 2)
      end
    end
    if style ~= nil and style ~= "old" and style ~= "new" then
      error("clean: tone_style must be \"old\" or \"new\", not " .. tostring(style), 2)
    end
  end
  local t, err = vn.nfc(s)
  if t == nil then return nil, err end
  t = vn.collapse(t)
  if t == "" then return nil end
  if style then t = vn.tone_style(t, style) end
  return t
end

return {
  clean = clean,                  -- nfc + collapse (which trims); "" -> nil; opts.tone_style
  trim = vn.trim,                 -- Unicode spaces off both ends
  collapse = vn.collapse,         -- runs of spaces -> one ASCII space, ends trimmed
  upper = vn.upper,               -- Vietnamese-correct case mapping (utf8proc)
  lower = vn.lower,
  title = vn.title,               -- first letter of each word upper, the rest lower
  nfc = vn.nfc,                   -- Unicode NFC
  fold = vn.fold,                 -- matching key: lower case, no tones or diacritics, đ -> d
  tone_key = vn.tone_key,         -- hòa = hoà, thủy = thuỷ: tone moved to the end of each syllable
  tone_style = vn.tone_style,     -- (s, "old"|"new"): hoà -> hòa / hòa -> hoà (oa, oe, uy)
  restore_case = vn.restore_case, -- after TCVN3: "name" or "heading"
  decode = vn.decode,             -- legacy bytes (tcvn3, vni, viscii, cp1258, ...) -> UTF-8 NFC
}
