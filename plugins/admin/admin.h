/*
 * admin.h -- the admin transform's parts: match keys (admin_key.c), the
 * tables and their indexes (admin_tables.c), resolution (admin_resolve.c)
 * and the step (admin.c).
 *
 * Trade-off: everything a row needs is worked out when the tables are
 * loaded -- every unit's name key, one hash index of (scope, key) -> units,
 * codes by number -- so a row costs a few key computations into fixed
 * buffers and a few hash probes, and never allocates.  The tables are
 * loaded once per process and folder and shared read-only by every admin
 * step (and any thread).
 */
#ifndef MEKONG_ADMIN_H
#define MEKONG_ADMIN_H

#include <stddef.h>
#include <stdint.h>

/* ---- match keys (admin_key.c) ----------------------------------------- */

/* A letter of U+00C0..U+01B0 or U+1EA0..U+1EF9: lower case without tone. */
typedef struct adm_letter {
    uint16_t base; /* 0: not a letter we fold */
    uint8_t tone;  /* 0 none, 1 sac, 2 huyen, 3 hoi, 4 nga, 5 nang */
} adm_letter;
extern const adm_letter adm_letters_0[];
extern const adm_letter adm_letters_1[];

/* Unit types as written ("Phường", "P.", "TP") and as registered. */
enum {
    ADM_T_NONE = 0,
    ADM_T_TINH,   /* Tỉnh, T. */
    ADM_T_TP,     /* Thành phố, TP: a province or a district-level city */
    ADM_T_QUAN,   /* Quận, Q. */
    ADM_T_HUYEN,  /* Huyện, H. */
    ADM_T_TX,     /* Thị xã, TX. */
    ADM_T_PHUONG, /* Phường, P. */
    ADM_T_XA,     /* Xã, X. */
    ADM_T_TT,     /* Thị trấn, TT. */
    ADM_T_DK,     /* Đặc khu */
};

/* The key of a name: NFC, lower case, each syllable's tone mark taken off
 * and written as a digit after it (hoà and hòa are both "hoa2"), ’ as ',
 * numbers without leading zeros, letters and digits apart ("P15" is
 * "p 15"), one space between syllables; other characters separate. */
#define ADM_KEY_MAX 256
typedef struct adm_key {
    char text[ADM_KEY_MAX];
    size_t len;
    int type; /* the type word the name started with, taken off text */
} adm_key;

/* Key of UTF-8 NFC s (at most ADM_KEY_MAX - 8 key bytes are kept; longer
 * names are cut and never match).  The leading type word is recognized and
 * removed when strip_type is set. */
void adm_key_make(const char *s, size_t len, int strip_type, adm_key *k);
/* k without diacritics or tones: ă â -> a, ê -> e, ô ơ -> o, ư -> u, đ -> d. */
void adm_key_fold(const adm_key *k, adm_key *out);
/* s for a message: bytes that are not UTF-8 and control characters as
 * \xHH, cut to fit size (at least 16).  Returns buf. */
const char *adm_shown(const char *s, size_t len, char *buf, size_t size);
/* The type of a registered division_type text ("phường", "đặc khu"). */
int adm_type_of(const char *division_type);
/* The levels a type word may name, as a mask: 1 ward, 2 district, 4
 * province (TP: 2 | 4), 0 for no type word. */
int adm_type_levels(int type);
/* Type word for people ("Phường"). */
const char *adm_type_word(int type);

/* ---- tables (admin_tables.c) -------------------------------------------- */

/* Kinds of names in the index; the _FOLDED ones are province names without
 * any diacritics ("Khanh Hoa"), tried only when the name itself is not found. */
enum {
    ADM_OLD_PROVINCE = 1,
    ADM_NEW_PROVINCE,
    ADM_OLD_DISTRICT,
    ADM_OLD_WARD,
    ADM_NEW_WARD,
    ADM_OLD_WARD_IN_PROVINCE,
    ADM_OLD_PROVINCE_FOLDED,
    ADM_NEW_PROVINCE_FOLDED
};

typedef struct adm_unit {
    const char *code; /* as registered, zero-padded */
    const char *name; /* full name as registered ("Phường Bến Nghé") */
    uint32_t parent;  /* old ward: district; old district: province; new ward: province */
    uint32_t first,
        n; /* old ward: its new wards in adm_tables.targets; old province: new province in first */
    uint8_t type;
    uint8_t in_table; /* old ward: in the conversion table (0: only in the 2025-01-04 list) */
    uint16_t code_len, name_len;
} adm_unit;

/* One name of a unit in the index: 64 bytes, one cache line, with the key
 * itself inside when it is short (nearly all are), so a probe that finds
 * its name touches the slot and this line only. */
typedef struct adm_entry {
    uint32_t scope; /* kind << 24 | parent + 1 */
    uint32_t unit;
    uint32_t next; /* next entry of the same chain + 1, 0: last */
    uint32_t keylen;
    uint32_t hash;   /* high bits of the key's hash (also in its slot) */
    uint8_t type;    /* the unit's type, as its name writes it */
    uint8_t listed;  /* old ward: in the conversion table (a copy of adm_unit.in_table) */
    const char *key; /* short_key, or the key store for a long one */
    char short_key[32];
} adm_entry;

typedef struct adm_tables {
    char *folder;
    adm_unit *old_prov, *new_prov, *old_dist, *old_ward, *new_ward;
    size_t n_old_prov, n_new_prov, n_old_dist, n_old_ward, n_new_ward;
    uint32_t *targets; /* new ward indexes of old wards */
    size_t n_targets;
    uint32_t *dist_target; /* per old district: a new ward it went to whole (+1), 0: none */
    uint32_t (*merged)[8]; /* per 2025 province: the old provinces merged into it */
    uint32_t old_prov_by_code[100]; /* old province code -> index + 1 */
    uint8_t *nmerged;
    adm_entry *entries;
    size_t n_entries, cap_entries;
    uint64_t *slots; /* hash of (scope, key): high 32 bits of the hash, entry + 1 */
    size_t nslots;
    uint32_t *old_by_code, *new_by_code; /* code number -> unit + 1 (100000 each) */
    uint32_t *pre_by_code;               /* pre-2025 list codes not in the conversion table */
    char **blocks;                       /* file contents and keys */
    size_t nblocks;
    int refs;
} adm_tables;

/* The tables of folder, loaded on first use and shared; NULL with a message
 * in err.  adm_tables_release when done. */
adm_tables *adm_tables_get(const char *folder, char *err, size_t errlen);
void adm_tables_release(adm_tables *t);
/* First entry + 1 of (kind, parent, key), 0 if none; adm_entry.next walks the chain. */
uint32_t adm_find(const adm_tables *t, int kind, uint32_t parent, const char *key, size_t len);

/* ---- resolution (admin_resolve.c) --------------------------------------- */

enum { ADM_OK = 0, ADM_SPLIT, ADM_UNKNOWN, ADM_AMBIGUOUS, ADM_MISMATCH };

#define ADM_MAX_PARTS 24
#define ADM_MAX_CAND 16

typedef struct adm_result {
    int status;
    uint32_t new_ward;           /* ADM_OK: index */
    int32_t new_province;        /* index, -1 unknown */
    uint32_t old_ward;           /* the old ward read, + 1 (0: none) */
    uint32_t cand[ADM_MAX_CAND]; /* ADM_SPLIT/ADM_AMBIGUOUS: new ward indexes */
    size_t ncand;
    size_t house_len; /* bytes of the address before the units (trimmed) */
    char reason[1024];
} adm_result;

typedef struct adm_query {
    const char *address; /* NFC UTF-8, or NULL */
    size_t address_len;
    const char *code; /* a ward code column value, or NULL */
    size_t code_len;
    int32_t default_province;     /* new province index, -1 none */
    int32_t default_old_province; /* old province index, -1 none */
    int province_only;            /* the step writes no ward: the province is the whole answer */
} adm_query;

void adm_resolve(const adm_tables *t, const adm_query *q, adm_result *r);
/* Province named by text (a constant option): new and old index, -1 if not. */
int adm_province_named(const adm_tables *t, const char *s, int32_t *new_index, int32_t *old_index);

#endif /* MEKONG_ADMIN_H */
