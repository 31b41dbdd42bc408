-- mekong.id_data -- the facts mekong.id checks against (data, no code).
--
-- provinces: the 63 province codes of the 12-digit citizen ID (CCCD): "0" +
--   the GSO code of the province where the birth was registered, with the
--   province's name before the 2025 merger and the province it belongs to
--   since 2025 (code and name).  Names are as officially written (NFC),
--   including the tone placement of each name ("Tỉnh Hoà Bình", "Tỉnh Thanh Hóa").
-- mobile_2018: the 21 old 11-digit mobile prefixes and their 10-digit
--   replacements (conversion of 2018).
-- landline_areas: the landline area codes in force since 2017-09-01 (the
--   digits after the leading 0).
local M = {}

M.provinces = {
  ["001"] = { name = "Thành phố Hà Nội", code_2025 = "01", name_2025 = "Thành phố Hà Nội" },
  ["002"] = { name = "Tỉnh Hà Giang", code_2025 = "08", name_2025 = "Tỉnh Tuyên Quang" },
  ["004"] = { name = "Tỉnh Cao Bằng", code_2025 = "04", name_2025 = "Tỉnh Cao Bằng" },
  ["006"] = { name = "Tỉnh Bắc Kạn", code_2025 = "19", name_2025 = "Tỉnh Thái Nguyên" },
  ["008"] = { name = "Tỉnh Tuyên Quang", code_2025 = "08", name_2025 = "Tỉnh Tuyên Quang" },
  ["010"] = { name = "Tỉnh Lào Cai", code_2025 = "15", name_2025 = "Tỉnh Lào Cai" },
  ["011"] = { name = "Tỉnh Điện Biên", code_2025 = "11", name_2025 = "Tỉnh Điện Biên" },
  ["012"] = { name = "Tỉnh Lai Châu", code_2025 = "12", name_2025 = "Tỉnh Lai Châu" },
  ["014"] = { name = "Tỉnh Sơn La", code_2025 = "14", name_2025 = "Tỉnh Sơn La" },
  ["015"] = { name = "Tỉnh Yên Bái", code_2025 = "15", name_2025 = "Tỉnh Lào Cai" },
  ["017"] = { name = "Tỉnh Hoà Bình", code_2025 = "25", name_2025 = "Tỉnh Phú Thọ" },
  ["019"] = { name = "Tỉnh Thái Nguyên", code_2025 = "19", name_2025 = "Tỉnh Thái Nguyên" },
  ["020"] = { name = "Tỉnh Lạng Sơn", code_2025 = "20", name_2025 = "Tỉnh Lạng Sơn" },
  ["022"] = { name = "Tỉnh Quảng Ninh", code_2025 = "22", name_2025 = "Tỉnh Quảng Ninh" },
  ["024"] = { name = "Tỉnh Bắc Giang", code_2025 = "24", name_2025 = "Tỉnh Bắc Ninh" },
  ["025"] = { name = "Tỉnh Phú Thọ", code_2025 = "25", name_2025 = "Tỉnh Phú Thọ" },
  ["026"] = { name = "Tỉnh Vĩnh Phúc", code_2025 = "25", name_2025 = "Tỉnh Phú Thọ" },
  ["027"] = { name = "Tỉnh Bắc Ninh", code_2025 = "24", name_2025 = "Tỉnh Bắc Ninh" },
  ["030"] = { name = "Tỉnh Hải Dương", code_2025 = "31", name_2025 = "Thành phố Hải Phòng" },
  ["031"] = { name = "Thành phố Hải Phòng", code_2025 = "31", name_2025 = "Thành phố Hải Phòng" },
  ["033"] = { name = "Tỉnh Hưng Yên", code_2025 = "33", name_2025 = "Tỉnh Hưng Yên" },
  ["034"] = { name = "Tỉnh Thái Bình", code_2025 = "33", name_2025 = "Tỉnh Hưng Yên" },
  ["035"] = { name = "Tỉnh Hà Nam", code_2025 = "37", name_2025 = "Tỉnh Ninh Bình" },
  ["036"] = { name = "Tỉnh Nam Định", code_2025 = "37", name_2025 = "Tỉnh Ninh Bình" },
  ["037"] = { name = "Tỉnh Ninh Bình", code_2025 = "37", name_2025 = "Tỉnh Ninh Bình" },
  ["038"] = { name = "Tỉnh Thanh Hóa", code_2025 = "38", name_2025 = "Tỉnh Thanh Hóa" },
  ["040"] = { name = "Tỉnh Nghệ An", code_2025 = "40", name_2025 = "Tỉnh Nghệ An" },
  ["042"] = { name = "Tỉnh Hà Tĩnh", code_2025 = "42", name_2025 = "Tỉnh Hà Tĩnh" },
  ["044"] = { name = "Tỉnh Quảng Bình", code_2025 = "44", name_2025 = "Tỉnh Quảng Trị" },
  ["045"] = { name = "Tỉnh Quảng Trị", code_2025 = "44", name_2025 = "Tỉnh Quảng Trị" },
  ["046"] = { name = "Thành phố Huế", code_2025 = "46", name_2025 = "Thành phố Huế" },
  ["048"] = { name = "Thành phố Đà Nẵng", code_2025 = "48", name_2025 = "Thành phố Đà Nẵng" },
  ["049"] = { name = "Tỉnh Quảng Nam", code_2025 = "48", name_2025 = "Thành phố Đà Nẵng" },
  ["051"] = { name = "Tỉnh Quảng Ngãi", code_2025 = "51", name_2025 = "Tỉnh Quảng Ngãi" },
  ["052"] = { name = "Tỉnh Bình Định", code_2025 = "52", name_2025 = "Tỉnh Gia Lai" },
  ["054"] = { name = "Tỉnh Phú Yên", code_2025 = "66", name_2025 = "Tỉnh Đắk Lắk" },
  ["056"] = { name = "Tỉnh Khánh Hòa", code_2025 = "56", name_2025 = "Tỉnh Khánh Hòa" },
  ["058"] = { name = "Tỉnh Ninh Thuận", code_2025 = "56", name_2025 = "Tỉnh Khánh Hòa" },
  ["060"] = { name = "Tỉnh Bình Thuận", code_2025 = "68", name_2025 = "Tỉnh Lâm Đồng" },
  ["062"] = { name = "Tỉnh Kon Tum", code_2025 = "51", name_2025 = "Tỉnh Quảng Ngãi" },
  ["064"] = { name = "Tỉnh Gia Lai", code_2025 = "52", name_2025 = "Tỉnh Gia Lai" },
  ["066"] = { name = "Tỉnh Đắk Lắk", code_2025 = "66", name_2025 = "Tỉnh Đắk Lắk" },
  ["067"] = { name = "Tỉnh Đắk Nông", code_2025 = "68", name_2025 = "Tỉnh Lâm Đồng" },
  ["068"] = { name = "Tỉnh Lâm Đồng", code_2025 = "68", name_2025 = "Tỉnh Lâm Đồng" },
  ["070"] = { name = "Tỉnh Bình Phước", code_2025 = "75", name_2025 = "Tỉnh Đồng Nai" },
  ["072"] = { name = "Tỉnh Tây Ninh", code_2025 = "80", name_2025 = "Tỉnh Tây Ninh" },
  ["074"] = { name = "Tỉnh Bình Dương", code_2025 = "79", name_2025 = "Thành phố Hồ Chí Minh" },
  ["075"] = { name = "Tỉnh Đồng Nai", code_2025 = "75", name_2025 = "Tỉnh Đồng Nai" },
  ["077"] = { name = "Tỉnh Bà Rịa - Vũng Tàu", code_2025 = "79", name_2025 = "Thành phố Hồ Chí Minh" },
  ["079"] = { name = "Thành phố Hồ Chí Minh", code_2025 = "79", name_2025 = "Thành phố Hồ Chí Minh" },
  ["080"] = { name = "Tỉnh Long An", code_2025 = "80", name_2025 = "Tỉnh Tây Ninh" },
  ["082"] = { name = "Tỉnh Tiền Giang", code_2025 = "82", name_2025 = "Tỉnh Đồng Tháp" },
  ["083"] = { name = "Tỉnh Bến Tre", code_2025 = "86", name_2025 = "Tỉnh Vĩnh Long" },
  ["084"] = { name = "Tỉnh Trà Vinh", code_2025 = "86", name_2025 = "Tỉnh Vĩnh Long" },
  ["086"] = { name = "Tỉnh Vĩnh Long", code_2025 = "86", name_2025 = "Tỉnh Vĩnh Long" },
  ["087"] = { name = "Tỉnh Đồng Tháp", code_2025 = "82", name_2025 = "Tỉnh Đồng Tháp" },
  ["089"] = { name = "Tỉnh An Giang", code_2025 = "91", name_2025 = "Tỉnh An Giang" },
  ["091"] = { name = "Tỉnh Kiên Giang", code_2025 = "91", name_2025 = "Tỉnh An Giang" },
  ["092"] = { name = "Thành phố Cần Thơ", code_2025 = "92", name_2025 = "Thành phố Cần Thơ" },
  ["093"] = { name = "Tỉnh Hậu Giang", code_2025 = "92", name_2025 = "Thành phố Cần Thơ" },
  ["094"] = { name = "Tỉnh Sóc Trăng", code_2025 = "92", name_2025 = "Thành phố Cần Thơ" },
  ["095"] = { name = "Tỉnh Bạc Liêu", code_2025 = "96", name_2025 = "Tỉnh Cà Mau" },
  ["096"] = { name = "Tỉnh Cà Mau", code_2025 = "96", name_2025 = "Tỉnh Cà Mau" },
}

M.mobile_2018 = {
  ["0162"] = "032", -- Viettel
  ["0163"] = "033", -- Viettel
  ["0164"] = "034", -- Viettel
  ["0165"] = "035", -- Viettel
  ["0166"] = "036", -- Viettel
  ["0167"] = "037", -- Viettel
  ["0168"] = "038", -- Viettel
  ["0169"] = "039", -- Viettel
  ["0120"] = "070", -- MobiFone
  ["0121"] = "079", -- MobiFone
  ["0122"] = "077", -- MobiFone
  ["0126"] = "076", -- MobiFone
  ["0128"] = "078", -- MobiFone
  ["0123"] = "083", -- VinaPhone
  ["0124"] = "084", -- VinaPhone
  ["0125"] = "085", -- VinaPhone
  ["0127"] = "081", -- VinaPhone
  ["0129"] = "082", -- VinaPhone
  ["0186"] = "056", -- Vietnamobile
  ["0188"] = "058", -- Vietnamobile
  ["0199"] = "059", -- Gmobile
}

M.landline_areas = {
  ["296"] = "An Giang",
  ["254"] = "Bà Rịa - Vũng Tàu",
  ["209"] = "Bắc Cạn",
  ["204"] = "Bắc Giang",
  ["291"] = "Bạc Liêu",
  ["222"] = "Bắc Ninh",
  ["275"] = "Bến Tre",
  ["256"] = "Bình Định",
  ["274"] = "Bình Dương",
  ["271"] = "Bình Phước",
  ["252"] = "Bình Thuận",
  ["290"] = "Cà Mau",
  ["292"] = "Cần Thơ",
  ["206"] = "Cao Bằng",
  ["236"] = "Đà Nẵng",
  ["262"] = "Đắk Lắk",
  ["261"] = "Đắk Nông",
  ["215"] = "Điện Biên",
  ["251"] = "Đồng Nai",
  ["277"] = "Đồng Tháp",
  ["269"] = "Gia Lai",
  ["219"] = "Hà Giang",
  ["226"] = "Hà Nam",
  ["24"] = "Hà Nội",
  ["239"] = "Hà Tĩnh",
  ["220"] = "Hải Dương",
  ["225"] = "Hải Phòng",
  ["293"] = "Hậu Giang",
  ["218"] = "Hòa Bình",
  ["221"] = "Hưng Yên",
  ["258"] = "Khánh Hòa",
  ["297"] = "Kiên Giang",
  ["260"] = "Kon Tum",
  ["213"] = "Lai Châu",
  ["263"] = "Lâm Đồng",
  ["205"] = "Lạng Sơn",
  ["214"] = "Lào Cai",
  ["272"] = "Long An",
  ["228"] = "Nam Định",
  ["238"] = "Nghệ An",
  ["229"] = "Ninh Bình",
  ["259"] = "Ninh Thuận",
  ["210"] = "Phú Thọ",
  ["257"] = "Phú Yên",
  ["232"] = "Quảng Bình",
  ["235"] = "Quảng Nam",
  ["255"] = "Quảng Ngãi",
  ["203"] = "Quảng Ninh",
  ["233"] = "Quảng Trị",
  ["299"] = "Sóc Trăng",
  ["212"] = "Sơn La",
  ["276"] = "Tây Ninh",
  ["227"] = "Thái Bình",
  ["208"] = "Thái Nguyên",
  ["237"] = "Thanh Hóa",
  ["234"] = "Thừa Thiên - Huế",
  ["273"] = "Tiền Giang",
  ["28"] = "Tp. Hồ Chí Minh",
  ["294"] = "Trà Vinh",
  ["207"] = "Tuyên Quang",
  ["270"] = "Vĩnh Long",
  ["211"] = "Vĩnh Phúc",
  ["216"] = "Yên Bái",
}

return M
