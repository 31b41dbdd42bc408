/*
 * vn_detect.c -- which encoding makes this sample read as Vietnamese?
 *
 * Each candidate decodes the sample; the decoding is scored by the share of
 * its words with a non-ASCII letter that are well-formed Vietnamese
 * syllables (onset + rhyme from the closed inventory of the language, one
 * tone at most, stop endings only with sac/nang), with undefined bytes and
 * stray symbols counted against it.  Mis-decoded Vietnamese is almost never
 * a run of valid syllables, so the right encoding stands out by a wide
 * margin on a few dozen words; when the sample has too few such words, or
 * two candidates score alike, we say so instead of guessing.
 */
#include "vntext_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <utf8proc.h>

/* ---- Syllables -------------------------------------------------------- */

/* A letter as one byte: consonants as themselves, modified vowels as digits. */
static char letter_code(vn_letter l)
{
    static const char vowel_codes[VN_VOWELS] = {'a', '1', '2', 'e', '3', 'i',
                                                'o', '4', '5', 'u', '6', 'y'};
    switch (l.kind) {
    case VN_L_VOWEL:
        return vowel_codes[l.vowel];
    case VN_L_CONSONANT:
        return (char)l.vowel;
    case VN_L_DSTROKE:
        return '9';
    default:
        return 0;
    }
}

/* Every rhyme (vowel nucleus with glides, and final) of standard Vietnamese, untoned. */
static const char *const rhyme_text =
    "a ac ach ai am an ang anh ao ap at au ay ăc ăm ăn ăng ăp ăt âc âm ân âng âp ât âu ây "
    "e ec em en eng eo ep et ê êch êm ên ênh êp êt êu "
    "i ia ich im in inh ip it iu iêc iêm iên iêng iêp iêt iêu "
    "o oa oac oach oai oam oan oang oanh oao oap oat oay oăc oăm oăn oăng oăt "
    "oc oe oen oeo oet oi om on ong ooc oong op ot "
    "ô ôc ôi ôm ôn ông ôp ôt ơ ơi ơm ơn ơp ơt "
    "u ua uân uâng uât uây uc uê uêch uênh uêu ui um un ung uơ uôc uôi uôm uôn uông uôt up ut "
    "uy uya uych uyên uyêt uyn uynh uyt uyu "
    "ư ưa ưc ưi ưm ưn ưng ưt ưu ươc ươi ươm ươn ương ươp ươt ươu "
    "y yêm yên yêng yêt yêu";

#define RHYME_SLOTS 512
static uint64_t rhyme_hash[RHYME_SLOTS]; /* packed codes, 0 = empty */
static pthread_once_t rhyme_once = PTHREAD_ONCE_INIT;

static uint64_t pack(const char *codes, size_t n)
{
    uint64_t k = 0;
    for (size_t i = 0; i < n; i++)
        k = (k << 8) | (unsigned char)codes[i];
    return k;
}

static size_t slot_of(uint64_t k)
{
    return (size_t)((k * 0x9E3779B97F4A7C15ull) >> 55) & (RHYME_SLOTS - 1);
}

static void build_rhymes(void)
{
    const unsigned char *s = (const unsigned char *)rhyme_text;
    size_t len = strlen(rhyme_text), i = 0;
    while (i < len) {
        char codes[8];
        size_t n = 0;
        while (i < len && s[i] != ' ') {
            size_t adv;
            uint32_t cp = vn_utf8_get(s + i, len - i, &adv);
            i += adv;
            if (n < 8)
                codes[n++] = letter_code(vn_letter_info(cp));
        }
        i++;
        uint64_t k = pack(codes, n);
        size_t slot = slot_of(k);
        while (rhyme_hash[slot])
            slot = (slot + 1) & (RHYME_SLOTS - 1);
        rhyme_hash[slot] = k;
    }
}

static int is_rhyme(const char *codes, size_t n)
{
    if (n == 0 || n > 6)
        return 0;
    uint64_t k = pack(codes, n);
    for (size_t slot = slot_of(k); rhyme_hash[slot]; slot = (slot + 1) & (RHYME_SLOTS - 1))
        if (rhyme_hash[slot] == k)
            return 1;
    return 0;
}

static int front_vowel(char c)
{
    return c == 'i' || c == 'e' || c == '3' || c == 'y';
}

static int valid_split(const char *onset, const char *rest, size_t n, int tone)
{
    char buf[10];
    if (strcmp(onset, "gi") == 0 && (n == 0 || (rest[0] != 'i' && !is_rhyme(rest, n)))) {
        /* "gì", "giếng": the i of gi doubles as the vowel */
        buf[0] = 'i';
        memcpy(buf + 1, rest, n);
        rest = buf;
        n++;
    }
    if (!is_rhyme(rest, n))
        return 0;
    /* Spelling rules: k, gh, ngh only before i e ê y; c, g, ng never before them. */
    int front = front_vowel(rest[0]);
    if ((!strcmp(onset, "k") || !strcmp(onset, "gh") || !strcmp(onset, "ngh")) && !front)
        return 0;
    if ((!strcmp(onset, "c") || !strcmp(onset, "g") || !strcmp(onset, "ng")) && front)
        return 0;
    if (!strcmp(onset, "qu") && rest[0] == 'u')
        return 0;
    /* Syllables ending in a stop take only the acute or dot tone. */
    char last = rest[n - 1];
    int stop = last == 'c' || last == 'p' || last == 't' || (n >= 2 && last == 'h' && rest[n - 2] == 'c');
    if (stop && tone != VN_T_ACUTE && tone != VN_T_DOT)
        return 0;
    return 1;
}

/* Is the word (code points) one Vietnamese syllable? */
static int is_syllable(const uint32_t *cps, size_t n)
{
    static const char *const onsets[] = {"ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "qu",
                                         "th", "tr", "b", "c", "d", "9", "g", "h", "k", "l",
                                         "m", "n", "p", "r", "s", "t", "v", "x", ""};
    char codes[10];
    int tone = VN_T_NONE;
    if (n == 0 || n > 8)
        return 0;
    for (size_t i = 0; i < n; i++) {
        vn_letter l = vn_letter_info(cps[i]);
        codes[i] = letter_code(l);
        if (!codes[i])
            return 0;
        if (l.kind == VN_L_VOWEL && l.tone != VN_T_NONE) {
            if (tone != VN_T_NONE)
                return 0; /* two tones */
            tone = l.tone;
        }
    }
    codes[n] = 0;
    for (size_t o = 0; o < sizeof onsets / sizeof onsets[0]; o++) {
        size_t olen = strlen(onsets[o]);
        if (olen > n || memcmp(codes, onsets[o], olen) != 0)
            continue;
        if (valid_split(onsets[o], codes + olen, n - olen, tone))
            return 1;
    }
    return 0;
}

/* ---- Scoring decoded text -------------------------------------------- */

typedef struct text_stats {
    size_t words; /* words with a non-ASCII letter */
    size_t good;  /* ... that are valid syllables */
    size_t odd;   /* non-ASCII symbols that Vietnamese text does not use */
    size_t replaced;
} text_stats;

static int usual_symbol(uint32_t cp)
{
    switch (cp) {
    case 0x00A0: case 0x00AB: case 0x00BB: case 0x00B0: case 0x2013: case 0x2014:
    case 0x2018: case 0x2019: case 0x201C: case 0x201D: case 0x2026: case 0x20AB:
    case 0x2022: case 0x00B7:
        return 1;
    default:
        return 0;
    }
}

static int is_letter(uint32_t cp)
{
    if (cp < 0x80)
        return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
           (c >= UTF8PROC_CATEGORY_MN && c <= UTF8PROC_CATEGORY_ME);
}

static void score_text(const char *text, size_t len, text_stats *st)
{
    pthread_once(&rhyme_once, build_rhymes);
    const unsigned char *s = (const unsigned char *)text;
    uint32_t word[9];
    size_t wn = 0, i = 0;
    int non_ascii = 0, too_long = 0;
    for (;;) {
        uint32_t cp = 0;
        size_t adv = 1;
        int end = i >= len;
        if (!end)
            cp = vn_utf8_get(s + i, len - i, &adv);
        if (!end && is_letter(cp)) {
            if (wn < 9)
                word[wn++] = cp;
            else
                too_long = 1;
            non_ascii |= cp >= 0x80;
        } else {
            if (wn && non_ascii) {
                st->words++;
                if (!too_long && is_syllable(word, wn))
                    st->good++;
            }
            wn = 0;
            non_ascii = too_long = 0;
            if (end)
                break;
            if (cp == VN_REPLACEMENT_CP)
                st->replaced++;
            else if (cp >= 0x80 && !usual_symbol(cp))
                st->odd++;
        }
        i += adv;
    }
}

static double stats_score(const text_stats *st)
{
    double denom = (double)st->words + (double)st->odd + 2.0 * (double)st->replaced;
    return denom > 0 ? (double)st->good / denom : -1.0;
}

double vn_plausibility(const char *s, size_t len)
{
    text_stats st = {0, 0, 0, 0};
    if (vn_utf8_validate(s, len) != len)
        return -1.0;
    score_text(s, len, &st);
    return st.words ? (double)st.good / (double)st.words : -1.0;
}

/* ---- Whole-sample detection ------------------------------------------ */

static const char *const candidates[] = {"utf-8", "cp1258", "tcvn3", "vni", "viscii"};
#define N_CANDIDATES (sizeof candidates / sizeof candidates[0])
#define MIN_CONFIDENCE 0.5
#define FULL_EVIDENCE_WORDS 12.0

/* Drop an incomplete UTF-8 sequence at the very end: the sample was cut there. */
static size_t trim_cut_sequence(const unsigned char *s, size_t len)
{
    for (size_t back = 1; back <= 3 && back <= len; back++) {
        unsigned char c = s[len - back];
        if ((c & 0xC0) == 0x80)
            continue;
        size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        return need > back ? len - back : len;
    }
    return len;
}

int vn_detect(const char *sample, size_t len, vn_detection *r)
{
    memset(r, 0, sizeof *r);
    const unsigned char *s = (const unsigned char *)sample;
    size_t high = 0;
    for (size_t i = 0; i < len; i++)
        high += s[i] >= 0x80;
    if (high == 0) {
        r->encoding = "ascii";
        r->confidence = 1.0;
        r->score = 1.0;
        snprintf(r->message, sizeof r->message,
                 "the sample is plain ASCII (%zu bytes): every candidate reads it the same, so "
                 "utf-8 is fine",
                 len);
        return VN_OK;
    }
    len = trim_cut_sequence(s, len);

    double scores[N_CANDIDATES];
    size_t words[N_CANDIDATES];
    vn_buf scratch;
    vn_buf_init(&scratch);
    for (size_t c = 0; c < N_CANDIDATES; c++) {
        scores[c] = -1.0;
        words[c] = 0;
        vn_decoder *d = vn_decoder_new(candidates[c], VN_REPLACE, NULL, 0);
        if (!d)
            continue; /* e.g. no CP1258 in this iconv */
        const char *out;
        size_t out_len;
        vn_error e;
        if (vn_decode_field(d, sample, len, &out, &out_len, &scratch, &e) == VN_OK) {
            text_stats st = {0, 0, 0, e.replacements};
            score_text(out, out_len, &st);
            scores[c] = stats_score(&st);
            words[c] = st.words;
        }
        vn_decoder_free(d);
    }
    vn_buf_free(&scratch);

    size_t best = 0, second = 1;
    for (size_t c = 0; c < N_CANDIDATES; c++)
        if (scores[c] > scores[best])
            best = c;
    second = best == 0 ? 1 : 0;
    for (size_t c = 0; c < N_CANDIDATES; c++)
        if (c != best && scores[c] > scores[second])
            second = c;
    double s1 = scores[best] < 0 ? 0 : scores[best];
    double s2 = scores[second] < 0 ? 0 : scores[second];
    double margin = (s1 - s2) / 0.25;
    double evidence = (double)words[best] / FULL_EVIDENCE_WORDS;
    double conf = s1 * (margin > 1 ? 1 : margin) * (evidence > 1 ? 1 : evidence);
    r->score = s1;
    r->runner_up = candidates[second];
    r->runner_up_score = s2;
    r->words = words[best];
    r->confidence = conf < 0 ? 0 : conf;

    if (r->confidence >= MIN_CONFIDENCE) {
        r->encoding = candidates[best];
        snprintf(r->message, sizeof r->message,
                 "%s (confidence %.2f): %.0f%% of %zu words with Vietnamese letters read as valid "
                 "syllables; runner-up %s scores %.2f",
                 candidates[best], r->confidence, 100.0 * s1, words[best], candidates[second], s2);
        return VN_OK;
    }
    r->encoding = "undecided";
    char list[160];
    size_t off = 0;
    for (size_t c = 0; c < N_CANDIDATES && off < sizeof list; c++)
        off += (size_t)snprintf(list + off, sizeof list - off, "%s%s %.2f", c ? ", " : "",
                                candidates[c], scores[c] < 0 ? 0.0 : scores[c]);
    if (words[best] < FULL_EVIDENCE_WORDS / 2)
        snprintf(r->message, sizeof r->message,
                 "cannot tell the encoding: the sample has only %zu word(s) with non-ASCII letters "
                 "(scores: %s); set the encoding option explicitly",
                 words[best], list);
    else
        snprintf(r->message, sizeof r->message,
                 "cannot tell the encoding: no candidate reads clearly better than the others "
                 "(scores: %s); set the encoding option explicitly",
                 list);
    return VN_EINVALID;
}

/* ---- One row of a mixed file ----------------------------------------- */

int vn_detect_row(vn_decoder *legacy, const char *row, size_t len, vn_buf *scratch)
{
    const unsigned char *s = (const unsigned char *)row;
    size_t i = 0;
    while (i < len && s[i] < 0x80)
        i++;
    if (i == len)
        return VN_ROW_ASCII;
    if (vn_utf8_validate(row, len) != len)
        return VN_ROW_LEGACY; /* not UTF-8; the legacy decoder reports its own bad bytes */

    /* Valid UTF-8 with non-ASCII: UTF-8 unless the legacy reading is clearly Vietnamese
     * and the UTF-8 one is not (short legacy strings can be valid UTF-8 by chance). */
    const char *out;
    size_t out_len;
    text_stats u = {0, 0, 0, 0}, l = {0, 0, 0, 0};
    int rc = vn_nfc(row, len, &out, &out_len, scratch);
    if (rc == VN_ENOMEM)
        return VN_ENOMEM;
    score_text(out, out_len, &u);
    vn_error e;
    rc = vn_decode_field_mode(legacy, row, len, &out, &out_len, scratch, &e, VN_REPLACE);
    if (rc == VN_ENOMEM)
        return VN_ENOMEM;
    l.replaced = e.replacements;
    score_text(out, out_len, &l);
    double su = stats_score(&u), sl = stats_score(&l);
    return (sl >= 0.8 && su < 0.5) ? VN_ROW_LEGACY : VN_ROW_UTF8;
}
