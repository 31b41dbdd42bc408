/*
 * gen.c -- a deterministic CSV of citizen-registry-like rows, for the
 * benchmark (make bench) and the bounded-memory test (tests/scripts/memory.sh).
 *
 *     bench/gen [-n ROWS] [-o PATH] [--seed N] [--bad-every N]
 *
 * 13 columns: national_id, full_name, birth_date, sex, phone, email,
 * province, district, ward, address, ethnicity, occupation, registered_at.
 * Text is Vietnamese in UTF-8 NFC; about 190 bytes a row.  The same seed
 * gives the same bytes on every machine: the generator uses a 64-bit
 * integer PRNG (splitmix64) and no floating point.
 *
 * What a real registry extract has is in it on purpose, at a few percent:
 * 11-digit IDs (the leading zero lost in a spreadsheet) and 9-digit old
 * CMND numbers, blanks around or inside names, lower-case sex, old 11-digit
 * mobile prefixes and +84 numbers, dd/mm/yyyy dates beside yyyy-mm-dd,
 * addresses with commas (quoted), with embedded quotes (doubled) and, once
 * in 2000 rows, with a line break inside the quotes.  Rows registered
 * before 2025-07-01 name one of the 63 old provinces and a district; later
 * rows name one of the 34 provinces after the 2025 merger and no district
 * (NULL: an unquoted empty field), as districts were abolished.  Names of
 * districts, wards and streets are real but not matched to the province:
 * the data is for measuring, not for geography.
 *
 * --bad-every N makes every Nth row a CSV record with a field missing
 * (rejected by mekong's csv source), so a test can check the rejects path
 * and the run report's totals too.
 *
 * The hot loop formats digits by hand into one output buffer: 10 million
 * rows must come out faster than mekong reads them.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- tables --------------------------------------------------------------- */

typedef struct name_part {
    const char *vn;    /* as written */
    const char *ascii; /* without marks, lower case: for e-mail addresses */
    unsigned weight;
} name_part;

/* Family names with rough shares in per mille (Nguyễn is about 38%). */
static const name_part family_names[] = {
    {"Nguyễn", "nguyen", 380}, {"Trần", "tran", 110}, {"Lê", "le", 95},  {"Phạm", "pham", 70},
    {"Hoàng", "hoang", 30},    {"Huỳnh", "huynh", 20}, {"Phan", "phan", 45}, {"Vũ", "vu", 25},
    {"Võ", "vo", 14},          {"Đặng", "dang", 21},  {"Bùi", "bui", 20},  {"Đỗ", "do", 14},
    {"Hồ", "ho", 13},          {"Ngô", "ngo", 13},    {"Dương", "duong", 10}, {"Lý", "ly", 5},
    {"Đinh", "dinh", 8},       {"Trương", "truong", 8}, {"Mai", "mai", 5}, {"Đoàn", "doan", 5},
    {"Lương", "luong", 4},     {"Tạ", "ta", 3},       {"Quách", "quach", 2}, {"Lâm", "lam", 4},
    {"Cao", "cao", 4},         {"Triệu", "trieu", 3}, {"Kiều", "kieu", 2}, {"Âu", "au", 1},
};

static const name_part male_middle[] = {
    {"Văn", "van", 40}, {"Hữu", "huu", 8}, {"Đức", "duc", 10}, {"Minh", "minh", 12},
    {"Quang", "quang", 8}, {"Công", "cong", 6}, {"Thành", "thanh", 6}, {"Xuân", "xuan", 4},
    {"Đình", "dinh", 5}, {"Ngọc", "ngoc", 3}, {"Anh", "anh", 4}, {"Gia", "gia", 3},
};

static const name_part female_middle[] = {
    {"Thị", "thi", 50}, {"Ngọc", "ngoc", 8}, {"Thu", "thu", 6}, {"Thanh", "thanh", 6},
    {"Phương", "phuong", 4}, {"Thùy", "thuy", 4}, {"Bảo", "bao", 3}, {"Kim", "kim", 4},
    {"Hồng", "hong", 4}, {"Mai", "mai", 3}, {"Khánh", "khanh", 3}, {"Diệu", "dieu", 2},
};

static const name_part male_given[] = {
    {"Anh", "anh", 6}, {"Hùng", "hung", 5}, {"Dũng", "dung", 5}, {"Tuấn", "tuan", 6},
    {"Minh", "minh", 5}, {"Hải", "hai", 4}, {"Nam", "nam", 5}, {"Long", "long", 4},
    {"Quân", "quan", 4}, {"Hiếu", "hieu", 3}, {"Phúc", "phuc", 3}, {"Khoa", "khoa", 3},
    {"Trung", "trung", 4}, {"Sơn", "son", 4}, {"Thắng", "thang", 4}, {"Cường", "cuong", 4},
    {"Đức", "duc", 4}, {"Huy", "huy", 5}, {"Bảo", "bao", 3}, {"Khánh", "khanh", 3},
    {"Tùng", "tung", 3}, {"Việt", "viet", 3}, {"Lộc", "loc", 2}, {"Toàn", "toan", 2},
    {"Vinh", "vinh", 3}, {"Thịnh", "thinh", 2}, {"Đạt", "dat", 4}, {"Kiên", "kien", 2},
};

static const name_part female_given[] = {
    {"Lan", "lan", 5}, {"Hương", "huong", 6}, {"Hoa", "hoa", 4}, {"Mai", "mai", 4},
    {"Linh", "linh", 6}, {"Trang", "trang", 6}, {"Ngọc", "ngoc", 3}, {"Thảo", "thao", 5},
    {"Hằng", "hang", 4}, {"Nga", "nga", 3}, {"Phương", "phuong", 4}, {"Yến", "yen", 3},
    {"Huyền", "huyen", 4}, {"Nhung", "nhung", 3}, {"Dung", "dung", 3}, {"Hà", "ha", 4},
    {"Thủy", "thuy", 4}, {"Vy", "vy", 3}, {"Chi", "chi", 3}, {"Quỳnh", "quynh", 3},
    {"Oanh", "oanh", 2}, {"Loan", "loan", 2}, {"Tuyết", "tuyet", 2}, {"Hạnh", "hanh", 3},
    {"Giang", "giang", 3}, {"Uyên", "uyen", 2}, {"Ánh", "anh", 2}, {"Nhi", "nhi", 3},
};

/* Names of the Central Highlands peoples, written as the registry writes
 * them (family name first for Ê Đê/Gia Rai is not the Kinh order). */
static const char *const highland_names[] = {
    "Ksor H'Bia", "Rơ Châm Phú", "Y Moan Niê", "H'Hen Niê", "Siu Đoan", "Kpă Thuyên",
    "Đinh Văn Blong", "Y Ngông Niê Kdăm", "Nay Hơ Nhí", "Rah Lan Lâm",
};

typedef struct province {
    const char *code;  /* GSO code, the 2nd-3rd digits of a CCCD number */
    const char *name;  /* the 63 provinces before 2025-07-01 */
    unsigned merged;   /* index into new_provinces */
    unsigned weight;   /* rough population share, per mille */
} province;

/* The 34 provinces from 2025-07-01. */
static const char *const new_provinces[] = {
    "Hà Nội",      "Huế",         "Lai Châu",   "Điện Biên",   "Sơn La",       "Lạng Sơn",
    "Quảng Ninh",  "Thanh Hóa",   "Nghệ An",    "Hà Tĩnh",     "Cao Bằng",     "Tuyên Quang",
    "Lào Cai",     "Thái Nguyên", "Phú Thọ",    "Bắc Ninh",    "Hưng Yên",     "Hải Phòng",
    "Ninh Bình",   "Quảng Trị",   "Đà Nẵng",    "Quảng Ngãi",  "Gia Lai",      "Khánh Hòa",
    "Lâm Đồng",    "Đắk Lắk",     "TP. Hồ Chí Minh", "Đồng Nai", "Tây Ninh",   "Cần Thơ",
    "Vĩnh Long",   "Đồng Tháp",   "Cà Mau",     "An Giang",
};

static const province provinces[] = {
    {"01", "Hà Nội", 0, 85},       {"02", "Hà Giang", 11, 9},    {"04", "Cao Bằng", 10, 5},
    {"06", "Bắc Kạn", 13, 3},      {"08", "Tuyên Quang", 11, 8}, {"10", "Lào Cai", 12, 8},
    {"11", "Điện Biên", 3, 6},     {"12", "Lai Châu", 2, 5},     {"14", "Sơn La", 4, 13},
    {"15", "Yên Bái", 12, 8},      {"17", "Hòa Bình", 14, 9},    {"19", "Thái Nguyên", 13, 13},
    {"20", "Lạng Sơn", 5, 8},      {"22", "Quảng Ninh", 6, 14},  {"24", "Bắc Giang", 15, 19},
    {"25", "Phú Thọ", 14, 15},     {"26", "Vĩnh Phúc", 14, 12},  {"27", "Bắc Ninh", 15, 15},
    {"30", "Hải Dương", 17, 19},   {"31", "Hải Phòng", 17, 21},  {"33", "Hưng Yên", 16, 13},
    {"34", "Thái Bình", 16, 19},   {"35", "Hà Nam", 18, 9},      {"36", "Nam Định", 18, 18},
    {"37", "Ninh Bình", 18, 10},   {"38", "Thanh Hóa", 7, 38},   {"40", "Nghệ An", 8, 35},
    {"42", "Hà Tĩnh", 9, 13},      {"44", "Quảng Bình", 19, 9},  {"45", "Quảng Trị", 19, 6},
    {"46", "Thừa Thiên Huế", 1, 12}, {"48", "Đà Nẵng", 20, 12},  {"49", "Quảng Nam", 20, 15},
    {"51", "Quảng Ngãi", 21, 13},  {"52", "Bình Định", 22, 15},  {"54", "Phú Yên", 25, 9},
    {"56", "Khánh Hòa", 23, 13},   {"58", "Ninh Thuận", 23, 6},  {"60", "Bình Thuận", 24, 13},
    {"62", "Kon Tum", 21, 6},      {"64", "Gia Lai", 22, 16},    {"66", "Đắk Lắk", 25, 19},
    {"67", "Đắk Nông", 24, 7},     {"68", "Lâm Đồng", 24, 13},   {"70", "Bình Phước", 27, 10},
    {"72", "Tây Ninh", 28, 12},    {"74", "Bình Dương", 26, 27}, {"75", "Đồng Nai", 27, 33},
    {"77", "Bà Rịa - Vũng Tàu", 26, 12}, {"79", "TP. Hồ Chí Minh", 26, 95},
    {"80", "Long An", 28, 17},     {"82", "Tiền Giang", 31, 18}, {"83", "Bến Tre", 30, 13},
    {"84", "Trà Vinh", 30, 10},    {"86", "Vĩnh Long", 30, 10},  {"87", "Đồng Tháp", 31, 16},
    {"89", "An Giang", 33, 19},    {"91", "Kiên Giang", 33, 17}, {"92", "Cần Thơ", 29, 12},
    {"93", "Hậu Giang", 29, 7},    {"94", "Sóc Trăng", 29, 12},  {"95", "Bạc Liêu", 32, 9},
    {"96", "Cà Mau", 32, 12},
};

static const char *const districts[] = {
    "Quận Ba Đình", "Quận Hoàn Kiếm", "Quận Đống Đa", "Quận Cầu Giấy", "Quận Hai Bà Trưng",
    "Quận 1", "Quận 3", "Quận 10", "Quận Bình Thạnh", "Quận Gò Vấp", "Quận Tân Bình",
    "Quận Ninh Kiều", "Quận Hải Châu", "Quận Ngô Quyền", "Quận Lê Chân", "Huyện Gia Lâm",
    "Huyện Đông Anh", "Huyện Thanh Trì", "Huyện Củ Chi", "Huyện Bình Chánh", "Huyện Hóc Môn",
    "Huyện Nhà Bè", "Huyện Cần Giờ", "Huyện Mộc Châu", "Huyện Krông Pắc", "Huyện Cư M'gar",
    "Huyện Ea H'leo", "Huyện Đắk R'lấp", "Huyện Quỳnh Lưu", "Huyện Hải Hậu", "Huyện Kim Sơn",
    "Huyện Tiên Du", "Huyện Châu Thành", "Huyện Phong Điền", "Thị xã Sơn Tây", "Thị xã Từ Sơn",
    "Thị xã Cửa Lò", "Thị xã Sa Pa", "Thành phố Thủ Đức", "Thành phố Vinh",
    "Thành phố Buôn Ma Thuột", "Thành phố Long Xuyên",
};

static const char *const ward_names[] = {
    "Bến Nghé",   "Tân Định",  "Điện Biên",  "Hàng Bạc",  "Láng Hạ",   "Dịch Vọng",
    "Tân Lập",    "Phước Kiển", "Đông Hòa",  "Hòa Phú",   "Ea Tu",     "Cư Êbur",
    "Nghĩa Đô",   "Quang Trung", "Hưng Phú",  "An Khánh",  "Thạnh Mỹ Lợi", "Bình An",
    "Trung Hòa",  "Yên Hòa",   "Mỹ Đình",    "Phú Diễn",  "Vĩnh Tuy",  "Thanh Xuân",
    "Hòa Khánh",  "Thuận Phước", "Cát Linh", "Kim Liên",  "Phú Thượng", "Tứ Liên",
    "Long Biên",  "Ngọc Thụy", "Xuân Đỉnh",  "Sài Đồng",  "Đồng Xuân", "Cửa Nam",
};

static const char *const streets[] = {
    "Trần Hưng Đạo", "Lê Lợi", "Nguyễn Huệ", "Hai Bà Trưng", "Lý Thường Kiệt", "Điện Biên Phủ",
    "Nguyễn Trãi", "Lê Duẩn", "Phan Chu Trinh", "Quang Trung", "Hùng Vương", "Võ Thị Sáu",
    "Nguyễn Thị Minh Khai", "Cách Mạng Tháng Tám", "Lạc Long Quân", "Âu Cơ", "Bạch Đằng",
    "Hoàng Diệu", "Trường Chinh", "Phạm Văn Đồng", "Nguyễn Văn Cừ", "Tôn Đức Thắng",
    "Lê Thánh Tông", "Ngô Quyền", "Đinh Tiên Hoàng", "Lý Thái Tổ", "Trần Phú", "Nguyễn Du",
    "Huỳnh Thúc Kháng", "Xô Viết Nghệ Tĩnh", "Kim Mã", "Giải Phóng", "Cầu Giấy", "3 Tháng 2",
    "30 Tháng 4", "Tô Hiến Thành", "Bà Triệu", "Hàng Bài",
};

static const char *const buildings[] = {
    "Hoàng Anh Gia Lai", "Sông Hồng", "Mường Thanh", "Sunrise City", "Hà Đô", "Linh Đàm",
    "Ngọc Khánh Plaza", "Phú Hoàng Anh",
};

typedef struct weighted {
    const char *name;
    unsigned weight;
} weighted;

/* The 54 peoples; weights in per ten thousand of the 2019 census, small
 * groups rounded up to 1. */
static const weighted ethnicities[] = {
    {"Kinh", 8532}, {"Tày", 192},  {"Thái", 183},    {"Mường", 155}, {"Khmer", 137},
    {"Mông", 131},  {"Nùng", 115}, {"Dao", 93},      {"Hoa", 78},    {"Gia Rai", 53},
    {"Ê Đê", 41},   {"Ba Na", 30}, {"Sán Chay", 21}, {"Chăm", 18},   {"Cơ Ho", 21},
    {"Xơ Đăng", 22}, {"Sán Dìu", 19}, {"Hrê", 15},   {"Ra Glai", 15}, {"Mnông", 13},
    {"Thổ", 9},     {"Xtiêng", 10}, {"Khơ Mú", 9},   {"Bru - Vân Kiều", 10}, {"Cơ Tu", 7},
    {"Giáy", 7},    {"Tà Ôi", 5},  {"Mạ", 5},        {"Giẻ Triêng", 7}, {"Co", 4},
    {"Chơ Ro", 3},  {"Xinh Mun", 3}, {"Hà Nhì", 3},  {"Chu Ru", 2},  {"Lào", 2},
    {"La Chí", 2},  {"Kháng", 1},  {"Phù Lá", 1},    {"La Hủ", 1},   {"La Ha", 1},
    {"Pà Thẻn", 1}, {"Lự", 1},     {"Ngái", 1},      {"Chứt", 1},    {"Lô Lô", 1},
    {"Mảng", 1},    {"Cơ Lao", 1}, {"Bố Y", 1},      {"Cống", 1},    {"Si La", 1},
    {"Pu Péo", 1},  {"Rơ Măm", 1}, {"Brâu", 1},      {"Ơ Đu", 1},
};

static const weighted occupations[] = {
    {"Nông dân", 30},         {"Công nhân", 18},         {"Giáo viên", 5},
    {"Bác sĩ", 2},            {"Kỹ sư xây dựng", 2},     {"Nhân viên văn phòng", 8},
    {"Học sinh", 10},         {"Sinh viên", 6},          {"Nội trợ", 5},
    {"Lái xe", 3},            {"Thợ may", 2},            {"Kế toán", 2},
    {"Công chức", 3},         {"Bộ đội", 1},             {"Ngư dân", 2},
    {"Hưu trí", 6},           {"Lao động tự do", 8},     {"Y tá", 1},
    {"Kỹ sư phần mềm", 1},    {"Thợ điện", 1},           {"Tiểu thương", 3},
    {"Kinh doanh, buôn bán", 4}, {"Dịch vụ, du lịch", 2}, {"Không nghề nghiệp", 3},
};

static const char *const email_domains[] = {
    "gmail.com", "gmail.com", "gmail.com", "gmail.com", "gmail.com", "gmail.com",
    "gmail.com", "yahoo.com.vn", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com",
};

/* Mobile prefixes since 2018, and the 11-digit ones they replaced. */
static const char *const mobile_prefixes[] = {
    "032", "033", "034", "035", "036", "037", "038", "039", "056", "058", "059", "070",
    "076", "077", "078", "079", "081", "082", "083", "084", "085", "086", "088", "089",
    "090", "091", "093", "094", "096", "097", "098", "099",
};
static const char *const old_mobile_prefixes[] = {
    "0162", "0163", "0164", "0165", "0166", "0167", "0168", "0169", "0120", "0121",
    "0122", "0126", "0128", "0123", "0124", "0125", "0127", "0129", "0186", "0188", "0199",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- random numbers --------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) (n < 2^32; the bias is below 2^-32). */
static uint32_t rng_below(uint32_t n)
{
    return (uint32_t)(((rng_next() >> 32) * (uint64_t)n) >> 32);
}

/* True with probability per_mille / 1000. */
static int rng_chance(uint32_t per_mille)
{
    return rng_below(1000) < per_mille;
}

/* Index of an entry chosen by weight; total is the sum of the weights. */
#define PICK_WEIGHTED(table, total)                                                            \
    pick_weighted_index(&(table)[0].weight, sizeof((table)[0]), COUNT(table), (total))

static size_t pick_weighted_index(const unsigned *first_weight, size_t stride, size_t n,
                                  uint32_t total)
{
    uint32_t x = rng_below(total);
    const char *p = (const char *)first_weight;
    for (size_t i = 0; i < n; i++, p += stride) {
        unsigned w = *(const unsigned *)(const void *)p;
        if (x < w)
            return i;
        x -= w;
    }
    return n - 1;
}

static uint32_t weight_total(const unsigned *first_weight, size_t stride, size_t n)
{
    uint32_t total = 0;
    const char *p = (const char *)first_weight;
    for (size_t i = 0; i < n; i++, p += stride)
        total += *(const unsigned *)(const void *)p;
    return total;
}

#define TOTAL(table) weight_total(&(table)[0].weight, sizeof((table)[0]), COUNT(table))

/* ---- output ------------------------------------------------------------------- */

#define OUT_BUFFER (1u << 20)

static char out_buf[OUT_BUFFER];
static size_t out_len;
static int out_fd = 1;
static const char *out_name = "standard output";

static void out_flush(void)
{
    size_t off = 0;
    while (off < out_len) {
        ssize_t n = write(out_fd, out_buf + off, out_len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "gen: cannot write %s: %s\n", out_name, strerror(errno));
            exit(1);
        }
        off += (size_t)n;
    }
    out_len = 0;
}

static void out_bytes(const char *p, size_t n)
{
    memcpy(out_buf + out_len, p, n);
    out_len += n;
}

static void out_str(const char *s)
{
    out_bytes(s, strlen(s));
}

static void out_char(char c)
{
    out_buf[out_len++] = c;
}

/* n in exactly `width` decimal digits (zero-padded). */
static void out_digits(uint64_t n, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        out_buf[out_len + (size_t)i] = (char)('0' + n % 10);
        n /= 10;
    }
    out_len += (size_t)width;
}

/* n without padding. */
static void out_uint(uint32_t n)
{
    int width = 1;
    for (uint32_t t = n; t >= 10; t /= 10)
        width++;
    out_digits(n, width);
}

/* A field assembled in a scratch buffer, quoted when it holds a comma, a
 * quote or a line break (quotes doubled), as RFC 4180 asks. */
typedef struct scratch {
    char buf[512];
    size_t len;
} scratch;

static void sc_str(scratch *s, const char *str)
{
    size_t n = strlen(str);
    memcpy(s->buf + s->len, str, n);
    s->len += n;
}

static void sc_uint(scratch *s, uint32_t n)
{
    char tmp[10];
    int k = 0;
    do
        tmp[k++] = (char)('0' + n % 10);
    while ((n /= 10) != 0);
    while (k > 0)
        s->buf[s->len++] = tmp[--k];
}

static void out_field(const scratch *s)
{
    int quote = 0;
    for (size_t i = 0; i < s->len && !quote; i++)
        quote = s->buf[i] == ',' || s->buf[i] == '"' || s->buf[i] == '\n' || s->buf[i] == '\r';
    if (!quote) {
        out_bytes(s->buf, s->len);
        return;
    }
    out_char('"');
    for (size_t i = 0; i < s->len; i++) {
        if (s->buf[i] == '"')
            out_char('"');
        out_char(s->buf[i]);
    }
    out_char('"');
}

/* ---- the columns ---------------------------------------------------------------- */

typedef struct person {
    int female;
    uint32_t year, month, day;
    const province *born;
    const name_part *family, *middle, *given;
    int highland; /* full name from highland_names */
} person;

static uint32_t family_total, male_middle_total, female_middle_total, male_given_total,
    female_given_total, province_total, ethnicity_total, occupation_total;

static void init_totals(void)
{
    family_total = TOTAL(family_names);
    male_middle_total = TOTAL(male_middle);
    female_middle_total = TOTAL(female_middle);
    male_given_total = TOTAL(male_given);
    female_given_total = TOTAL(female_given);
    province_total = TOTAL(provinces);
    ethnicity_total = TOTAL(ethnicities);
    occupation_total = TOTAL(occupations);
}

static uint32_t days_in_month(uint32_t year, uint32_t month)
{
    static const uint8_t days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))
        return 29;
    return days[month - 1];
}

static void make_person(person *p)
{
    p->female = (int)rng_below(2);
    p->year = 1940 + rng_below(68); /* 1940..2007: adults in 2025 */
    p->month = 1 + rng_below(12);
    p->day = 1 + rng_below(days_in_month(p->year, p->month));
    p->born = &provinces[PICK_WEIGHTED(provinces, province_total)];
    p->family = &family_names[PICK_WEIGHTED(family_names, family_total)];
    if (p->female) {
        p->middle = &female_middle[PICK_WEIGHTED(female_middle, female_middle_total)];
        p->given = &female_given[PICK_WEIGHTED(female_given, female_given_total)];
    } else {
        p->middle = &male_middle[PICK_WEIGHTED(male_middle, male_middle_total)];
        p->given = &male_given[PICK_WEIGHTED(male_given, male_given_total)];
    }
    p->highland = rng_chance(4);
}

/* CCCD: 0 + province code, century-and-sex digit, 2 digits of the birth
 * year, 6 random digits.  Dirty: the leading zero lost (11 digits), or a
 * 9-digit CMND of the old kind. */
static void out_national_id(const person *p)
{
    uint32_t dirt = rng_below(1000);
    if (dirt < 5) {
        out_digits(rng_next() % 1000000000u, 9);
        return;
    }
    if (dirt >= 15) /* 98.5% keep the zero */
        out_char('0');
    out_str(p->born->code);
    uint32_t century = (p->year - 1900) / 100; /* 0: 1900s, 1: 2000s */
    out_char((char)('0' + century * 2 + (uint32_t)p->female));
    out_digits(p->year % 100, 2);
    out_digits(rng_next() % 1000000u, 6);
}

static void out_full_name(const person *p)
{
    scratch s = {.len = 0};
    uint32_t dirt = rng_below(1000);
    if (dirt < 10)
        sc_str(&s, " ");
    if (p->highland) {
        sc_str(&s, highland_names[rng_below(COUNT(highland_names))]);
    } else {
        sc_str(&s, p->family->vn);
        sc_str(&s, dirt >= 10 && dirt < 20 ? "  " : " ");
        sc_str(&s, p->middle->vn);
        sc_str(&s, " ");
        if (rng_chance(150)) { /* a second middle name: Nguyễn Thị Ngọc Anh */
            const name_part *extra = p->female ? &female_middle[rng_below(COUNT(female_middle))]
                                               : &male_middle[rng_below(COUNT(male_middle))];
            if (extra != p->middle && strcmp(extra->vn, p->given->vn) != 0) {
                sc_str(&s, extra->vn);
                sc_str(&s, " ");
            }
        }
        sc_str(&s, p->given->vn);
    }
    if (dirt < 5 || (dirt >= 20 && dirt < 25))
        sc_str(&s, " ");
    out_field(&s);
}

/* yyyy-mm-dd, or dd/mm/yyyy for 3% of rows. */
static void out_date(uint32_t year, uint32_t month, uint32_t day)
{
    if (rng_chance(30)) {
        out_digits(day, 2);
        out_char('/');
        out_digits(month, 2);
        out_char('/');
        out_digits(year, 4);
        return;
    }
    out_digits(year, 4);
    out_char('-');
    out_digits(month, 2);
    out_char('-');
    out_digits(day, 2);
}

static void out_sex(const person *p)
{
    uint32_t dirt = rng_below(1000);
    if (dirt < 10)
        out_str(p->female ? "nữ" : "nam");
    else if (dirt < 13)
        out_str(p->female ? "F" : "M");
    else
        out_str(p->female ? "Nữ" : "Nam");
}

static void out_phone(void)
{
    uint32_t kind = rng_below(1000);
    if (kind < 20) /* no phone: NULL */
        return;
    if (kind < 50) { /* an old 11-digit number */
        out_str(old_mobile_prefixes[rng_below(COUNT(old_mobile_prefixes))]);
        out_digits(rng_next() % 10000000u, 7);
        return;
    }
    const char *prefix = mobile_prefixes[rng_below(COUNT(mobile_prefixes))];
    if (kind < 70) { /* +84 912 345 678: the 0 of the prefix dropped */
        out_str("+84 ");
        out_str(prefix + 1);
        out_digits(rng_below(10), 1);
        out_char(' ');
        out_digits(rng_below(1000), 3);
        out_char(' ');
        out_digits(rng_below(1000), 3);
        return;
    }
    out_str(prefix);
    out_digits(rng_next() % 10000000u, 7);
}

static void out_email(const person *p)
{
    if (!rng_chance(400) || p->highland)
        return; /* NULL */
    out_str(p->given->ascii);
    switch (rng_below(3)) {
    case 0:
        out_char('.');
        out_str(p->family->ascii);
        break;
    case 1:
        out_str(p->family->ascii);
        out_digits(p->year % 100, 2);
        break;
    default:
        out_str(p->middle->ascii);
        out_uint(rng_below(1000));
    }
    out_char('@');
    out_str(email_domains[rng_below(COUNT(email_domains))]);
}

/* Where the person lives, in the units of the registration date. */
static void out_place(const province *home, int after_merger)
{
    scratch s = {.len = 0};
    sc_str(&s, after_merger ? new_provinces[home->merged] : home->name);
    out_field(&s);
    out_char(',');
    if (!after_merger) /* districts were abolished: NULL after the merger */
        out_str(districts[rng_below(COUNT(districts))]);
    out_char(',');
    uint32_t kind = rng_below(10);
    if (kind < 3) {
        out_str("Phường ");
        out_uint(1 + rng_below(20));
    } else if (kind < 6) {
        out_str("Phường ");
        out_str(ward_names[rng_below(COUNT(ward_names))]);
    } else if (kind < 7 && !after_merger) {
        out_str("Thị trấn ");
        out_str(ward_names[rng_below(COUNT(ward_names))]);
    } else {
        out_str("Xã ");
        out_str(ward_names[rng_below(COUNT(ward_names))]);
    }
}

static void out_address(void)
{
    scratch s = {.len = 0};
    uint32_t kind = rng_below(2000);
    if (kind == 0) { /* pasted from a form: a line break inside */
        sc_str(&s, "Số ");
        sc_uint(&s, 1 + rng_below(200));
        sc_str(&s, "\nđường ");
        sc_str(&s, streets[rng_below(COUNT(streets))]);
    } else if (kind < 60) { /* quotes inside: doubled in the file */
        sc_str(&s, "Chung cư \"");
        sc_str(&s, buildings[rng_below(COUNT(buildings))]);
        sc_str(&s, "\", tầng ");
        sc_uint(&s, 1 + rng_below(30));
        sc_str(&s, ", căn ");
        sc_uint(&s, 1 + rng_below(40));
        sc_uint(&s, rng_below(10));
    } else if (kind < 1000) {
        sc_str(&s, "Số ");
        sc_uint(&s, 1 + rng_below(300));
        sc_str(&s, ", ngõ ");
        sc_uint(&s, 1 + rng_below(150));
        sc_str(&s, ", đường ");
        sc_str(&s, streets[rng_below(COUNT(streets))]);
    } else if (kind < 1500) {
        sc_str(&s, "Số ");
        sc_uint(&s, 1 + rng_below(500));
        sc_str(&s, " ");
        sc_str(&s, streets[rng_below(COUNT(streets))]);
    } else if (kind < 1800) {
        sc_str(&s, "Thôn ");
        sc_uint(&s, 1 + rng_below(15));
    } else {
        sc_str(&s, "Tổ ");
        sc_uint(&s, 1 + rng_below(40));
        sc_str(&s, ", khu phố ");
        sc_uint(&s, 1 + rng_below(12));
    }
    out_field(&s);
}

static void out_weighted(const weighted *table, size_t n, uint32_t total)
{
    const weighted *w = &table[pick_weighted_index(&table[0].weight, sizeof table[0], n, total)];
    scratch s = {.len = 0};
    sc_str(&s, w->name);
    out_field(&s);
}

/* yyyy-mm-dd hh:mm:ss from 2016 to 2025, or dd/mm/yyyy hh:mm (3%);
 * returns nonzero when the date is on or after 2025-07-01. */
static int out_registered_at(void)
{
    uint32_t year = 2016 + rng_below(10);
    uint32_t month = 1 + rng_below(12);
    uint32_t day = 1 + rng_below(days_in_month(year, month));
    uint32_t hour = 7 + rng_below(11), minute = rng_below(60), second = rng_below(60);
    if (rng_chance(30)) {
        out_digits(day, 2);
        out_char('/');
        out_digits(month, 2);
        out_char('/');
        out_digits(year, 4);
        out_char(' ');
        out_digits(hour, 2);
        out_char(':');
        out_digits(minute, 2);
    } else {
        out_digits(year, 4);
        out_char('-');
        out_digits(month, 2);
        out_char('-');
        out_digits(day, 2);
        out_char(' ');
        out_digits(hour, 2);
        out_char(':');
        out_digits(minute, 2);
        out_char(':');
        out_digits(second, 2);
    }
    return year > 2025 || (year == 2025 && month >= 7);
}

/* registered_at decides the province naming of the row, but it is the
 * last column: draw it first into a side buffer. */
static void out_row(int ragged)
{
    person p;
    make_person(&p);
    const province *home =
        rng_chance(700) ? p.born : &provinces[PICK_WEIGHTED(provinces, province_total)];

    size_t mark = out_len;
    int after_merger = out_registered_at();
    char registered[32];
    size_t registered_len = out_len - mark;
    memcpy(registered, out_buf + mark, registered_len);
    out_len = mark;

    out_national_id(&p);
    out_char(',');
    out_full_name(&p);
    out_char(',');
    out_date(p.year, p.month, p.day);
    out_char(',');
    if (!ragged) { /* a record with a field missing: no sex, no comma */
        out_sex(&p);
        out_char(',');
    }
    out_phone();
    out_char(',');
    out_email(&p);
    out_char(',');
    out_place(home, after_merger);
    out_char(',');
    out_address();
    out_char(',');
    out_weighted(ethnicities, COUNT(ethnicities), ethnicity_total);
    out_char(',');
    out_weighted(occupations, COUNT(occupations), occupation_total);
    out_char(',');
    out_bytes(registered, registered_len);
    out_char('\n');
}

/* ---- command line --------------------------------------------------------------- */

static void usage(FILE *f)
{
    fputs("usage: gen [-n ROWS] [-o PATH] [--seed N] [--bad-every N]\n"
          "  -n, --rows N       data rows to write (default 1000000), after the header\n"
          "  -o, --output PATH  file or FIFO to write (default: standard output)\n"
          "  --seed N           seed of the generator (default 20250701): same seed, same bytes\n"
          "  --bad-every N      make every Nth row lack a field, so mekong rejects it (default 0:\n"
          "                     none)\n",
          f);
}

static int parse_count(const char *s, const char *what, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-') {
        fprintf(stderr, "gen: %s must be a whole number, not '%s'\n", what, s);
        return -1;
    }
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t rows = 1000000, seed = 20250701, bad_every = 0;
    const char *path = NULL;
    static const struct option longopts[] = {
        {"rows", required_argument, NULL, 'n'}, {"output", required_argument, NULL, 'o'},
        {"seed", required_argument, NULL, 's'}, {"bad-every", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "n:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (parse_count(optarg, "--rows", &rows) != 0)
                return 2;
            break;
        case 'o': path = optarg; break;
        case 's':
            if (parse_count(optarg, "--seed", &seed) != 0)
                return 2;
            break;
        case 'b':
            if (parse_count(optarg, "--bad-every", &bad_every) != 0)
                return 2;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "gen: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (path && strcmp(path, "-") != 0) {
        /* O_TRUNC leaves a FIFO as it is: the reader gets the rows */
        out_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (out_fd < 0) {
            fprintf(stderr, "gen: cannot open %s for writing: %s\n", path, strerror(errno));
            return 1;
        }
        out_name = path;
    }
    rng_state = seed;
    init_totals();
    out_str("national_id,full_name,birth_date,sex,phone,email,province,district,ward,address,"
            "ethnicity,occupation,registered_at\n");
    for (uint64_t i = 1; i <= rows; i++) {
        out_row(bad_every && i % bad_every == 0);
        if (out_len > OUT_BUFFER - 4096)
            out_flush();
    }
    out_flush();
    if (out_fd != 1 && close(out_fd) != 0) {
        fprintf(stderr, "gen: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    return 0;
}
