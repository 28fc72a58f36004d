/* The compiled fast lane's claims reader: the CWT payload of an official-ID credential, checked
 * and taken apart in C.
 *
 * vl_claims() accepts one strict subset of what the Python checks (vcsdk.verify.checks.parse_claims
 * over the strict CBOR decoder) accept: the shape our issuers write. Every head in its shortest
 * form, definite lengths, no duplicate keys, no tag but 100 on birth_date, a holder key (cnf) only
 * as exactly {1: {1: 1, -1: 6, -2: h'32 bytes'}} (an Ed25519 COSE_Key), text of printable ASCII and precomposed Hangul syllables only (such text is NFC and holds no
 * control, bidi, zero-width or filler character), times and the status index below 2^62. For
 * such a payload it fills VL_CLAIM_SLOTS integers (layout in fastlane.h) that Python turns into
 * the same typed claims the Python checks would build. Anything else gives VL_FALLBACK and the
 * Python checks decide, so this file can make a payload faster, never change what it means.
 *
 * The payload is untrusted: every read goes through rd_* with an explicit bound.
 */
#include <stdint.h>
#include <string.h>

#include "fastlane.h"

typedef struct {
    const uint8_t *p;
    size_t n;
    size_t i;
} rd;

#define MAX_SMALL_INT ((uint64_t)1 << 62) /* larger ints (and negative times): the Python checks */

/* One head in its shortest form: major type and argument. Indefinite lengths, the reserved
 * additional-information values and longer-than-needed arguments are refused. */
static int rd_head(rd *r, int *major, uint64_t *arg) {
    if (r->i >= r->n) {
        return VL_FALLBACK;
    }
    uint8_t b = r->p[r->i++];
    uint8_t info = b & 0x1F;
    *major = b >> 5;
    if (info < 24) {
        *arg = info;
        return VL_OK;
    }
    size_t width = info == 24 ? 1 : info == 25 ? 2 : info == 26 ? 4 : info == 27 ? 8 : 0;
    if (width == 0 || r->n - r->i < width) {
        return VL_FALLBACK;
    }
    uint64_t v = 0;
    for (size_t k = 0; k < width; k++) {
        v = (v << 8) | r->p[r->i++];
    }
    uint64_t least = width == 1 ? 24 : width == 2 ? 0x100 : width == 4 ? 0x10000 : 0x100000000ull;
    if (v < least) {
        return VL_FALLBACK;
    }
    *arg = v;
    return VL_OK;
}

/* A string of major type `major` (2: bytes, 3: text): its offset and length in bytes. */
static int rd_string(rd *r, int major, size_t *off, size_t *len) {
    int m;
    uint64_t arg;
    if (rd_head(r, &m, &arg) != VL_OK || m != major || arg > r->n - r->i) {
        return VL_FALLBACK;
    }
    *off = r->i;
    *len = (size_t)arg;
    r->i += (size_t)arg;
    return VL_OK;
}

/* An unsigned integer below 2^62. */
static int rd_uint(rd *r, uint64_t *value) {
    int m;
    if (rd_head(r, &m, value) != VL_OK || m != 0 || *value >= MAX_SMALL_INT) {
        return VL_FALLBACK;
    }
    return VL_OK;
}

/* A map head: its number of entries. */
static int rd_map(rd *r, uint64_t *count) {
    int m;
    if (rd_head(r, &m, count) != VL_OK || m != 5) {
        return VL_FALLBACK;
    }
    return VL_OK;
}

/* Well-formed UTF-8 (no overlong form, no surrogate, nothing above U+10FFFF); the number of code
 * points lands in *chars. With `restricted`, every code point must also be printable ASCII
 * (U+0020-U+007E) or a precomposed Hangul syllable (U+AC00-U+D7A3). */
static int utf8_chars(const uint8_t *s, size_t len, int restricted, size_t *chars) {
    size_t count = 0;
    for (size_t i = 0; i < len; count++) {
        uint8_t b = s[i];
        uint32_t cp;
        size_t extra;
        if (b < 0x80) {
            cp = b;
            extra = 0;
        } else if (b >= 0xC2 && b <= 0xDF) {
            cp = b & 0x1Fu;
            extra = 1;
        } else if (b >= 0xE0 && b <= 0xEF) {
            cp = b & 0x0Fu;
            extra = 2;
        } else if (b >= 0xF0 && b <= 0xF4) {
            cp = b & 0x07u;
            extra = 3;
        } else {
            return VL_FALLBACK;
        }
        if (len - i - 1 < extra) {
            return VL_FALLBACK;
        }
        for (size_t k = 1; k <= extra; k++) {
            uint8_t c = s[i + k];
            if ((c & 0xC0) != 0x80) {
                return VL_FALLBACK;
            }
            cp = (cp << 6) | (c & 0x3Fu);
        }
        if ((extra == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF))) {
            return VL_FALLBACK;
        }
        if (restricted && !((cp >= 0x20 && cp <= 0x7E) || (cp >= 0xAC00 && cp <= 0xD7A3))) {
            return VL_FALLBACK;
        }
        i += 1 + extra;
    }
    *chars = count;
    return VL_OK;
}

/* Non-empty text: its offset and length (bytes); at most max_chars code points when restricted. */
static int rd_text(rd *r, int restricted, size_t max_chars, int64_t *off, int64_t *len) {
    size_t o, l, chars;
    if (rd_string(r, 3, &o, &l) != VL_OK || l == 0 || utf8_chars(r->p + o, l, restricted, &chars) != VL_OK) {
        return VL_FALLBACK;
    }
    if (restricted && chars > max_chars) {
        return VL_FALLBACK;
    }
    *off = (int64_t)o;
    *len = (int64_t)l;
    return VL_OK;
}

/* Text equal to the ASCII `word`. */
static int rd_word(rd *r, const char *word) {
    size_t o, l, want = strlen(word);
    if (rd_string(r, 3, &o, &l) != VL_OK || l != want || memcmp(r->p + o, word, want) != 0) {
        return VL_FALLBACK;
    }
    return VL_OK;
}

/* {"status_list": {"idx": uint, "uri": text}} (the inner keys in either order). */
static int rd_status(rd *r, int64_t *out) {
    uint64_t count, idx = 0;
    if (rd_map(r, &count) != VL_OK || count != 1 || rd_word(r, "status_list") != VL_OK) {
        return VL_FALLBACK;
    }
    if (rd_map(r, &count) != VL_OK || count != 2) {
        return VL_FALLBACK;
    }
    int seen = 0;
    for (int k = 0; k < 2; k++) {
        size_t o, l;
        if (rd_string(r, 3, &o, &l) != VL_OK || l != 3) {
            return VL_FALLBACK;
        }
        if (memcmp(r->p + o, "idx", 3) == 0 && !(seen & 1)) {
            if (rd_uint(r, &idx) != VL_OK) {
                return VL_FALLBACK;
            }
            seen |= 1;
        } else if (memcmp(r->p + o, "uri", 3) == 0 && !(seen & 2)) {
            if (rd_text(r, 0, 0, &out[VL_SLOT_URI], &out[VL_SLOT_URI + 1]) != VL_OK) {
                return VL_FALLBACK;
            }
            seen |= 2;
        } else {
            return VL_FALLBACK;
        }
    }
    out[VL_SLOT_STATUS_IDX] = (int64_t)idx;
    return VL_OK;
}

/* Maximum characters of the official-ID text fields, by key (0: not a text field). */
static const size_t TEXT_MAX[11] = {0, 50, 100, 0, 0, 100, 100, 50, 50, 32, 0};
#define OFFICIAL_REQUIRED ((1u << 1) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 7) | (1u << 9) | (1u << 10))
#define DAYS_MIN (-719162) /* 0001-01-01, days from 1970-01-01 */
#define DAYS_MAX 2932896   /* 9999-12-31 */
#define AGENCY_MIN 1000000
#define AGENCY_MAX 9999999

static int rd_official(rd *r, int64_t *out) {
    uint64_t count;
    if (rd_map(r, &count) != VL_OK || count > 10) {
        return VL_FALLBACK;
    }
    unsigned seen = 0;
    for (uint64_t e = 0; e < count; e++) {
        uint64_t key;
        if (rd_uint(r, &key) != VL_OK || key < 1 || key > 10 || (seen & (1u << key))) {
            return VL_FALLBACK;
        }
        seen |= 1u << key;
        int64_t *slot = &out[VL_SLOT_OFFICIAL + 2 * (key - 1)];
        if (TEXT_MAX[key]) {
            if (rd_text(r, 1, TEXT_MAX[key], &slot[0], &slot[1]) != VL_OK) {
                return VL_FALLBACK;
            }
        } else if (key == 3) { /* tag 100 (days since 1970-01-01) on an integer */
            int m;
            uint64_t arg;
            if (rd_head(r, &m, &arg) != VL_OK || m != 6 || arg != 100 || rd_head(r, &m, &arg) != VL_OK) {
                return VL_FALLBACK;
            }
            int64_t days;
            if (m == 0 && arg <= (uint64_t)DAYS_MAX) {
                days = (int64_t)arg;
            } else if (m == 1 && arg <= (uint64_t)(-(DAYS_MIN + 1))) {
                days = -1 - (int64_t)arg;
            } else {
                return VL_FALLBACK;
            }
            slot[0] = days;
            slot[1] = 0;
        } else if (key == 4) {
            uint64_t code;
            if (rd_uint(r, &code) != VL_OK || code < AGENCY_MIN || code > AGENCY_MAX) {
                return VL_FALLBACK;
            }
            slot[0] = (int64_t)code;
            slot[1] = 0;
        } else { /* key 10: the photo digest */
            size_t o, l;
            if (rd_string(r, 2, &o, &l) != VL_OK || l != 16) {
                return VL_FALLBACK;
            }
            slot[0] = (int64_t)o;
            slot[1] = 16;
        }
    }
    return (seen & OFFICIAL_REQUIRED) == OFFICIAL_REQUIRED ? VL_OK : VL_FALLBACK;
}

/* cnf: {1: {1: 1 (OKP), -1: 6 (Ed25519), -2: x}} with x 32 bytes, as the issuers write it. */
static const uint8_t CNF_HEAD[10] = {0xA1, 0x01, 0xA3, 0x01, 0x01, 0x20, 0x06, 0x21, 0x58, 0x20};

static int rd_cnf(rd *r, int64_t *out) {
    if (r->n - r->i < sizeof CNF_HEAD + 32 || memcmp(r->p + r->i, CNF_HEAD, sizeof CNF_HEAD) != 0) {
        return VL_FALLBACK;
    }
    out[VL_SLOT_CNF] = (int64_t)(r->i + sizeof CNF_HEAD);
    r->i += sizeof CNF_HEAD + 32;
    return VL_OK;
}

enum { SEEN_ISS = 1, SEEN_EXP = 2, SEEN_NBF = 4, SEEN_IAT = 8, SEEN_CTI = 16, SEEN_STATUS = 32, SEEN_OFFICIAL = 64, SEEN_CNF = 128 };

int vl_claims(const uint8_t *payload, size_t len, int64_t *out) {
    for (int k = 0; k < VL_CLAIM_SLOTS; k++) {
        out[k] = -1; /* -1: absent */
    }
    rd r = {payload, len, 0};
    uint64_t count;
    if (rd_map(&r, &count) != VL_OK || count > 8) {
        return VL_FALLBACK;
    }
    unsigned seen = 0;
    for (uint64_t e = 0; e < count; e++) {
        int m;
        uint64_t arg;
        if (rd_head(&r, &m, &arg) != VL_OK) {
            return VL_FALLBACK;
        }
        int64_t key;
        if (m == 0 && arg <= 65535) {
            key = (int64_t)arg;
        } else if (m == 1 && arg == 65536) {
            key = -65537; /* the official-ID claim */
        } else {
            return VL_FALLBACK;
        }
        uint64_t value;
        size_t o, l;
        unsigned bit;
        switch (key) {
        case 1: /* iss */
            bit = SEEN_ISS;
            if ((seen & bit) || rd_text(&r, 0, 0, &out[VL_SLOT_ISS], &out[VL_SLOT_ISS + 1]) != VL_OK) {
                return VL_FALLBACK;
            }
            break;
        case 4: /* exp */
        case 5: /* nbf */
        case 6: /* iat */
            bit = key == 4 ? SEEN_EXP : key == 5 ? SEEN_NBF : SEEN_IAT;
            if ((seen & bit) || rd_uint(&r, &value) != VL_OK) {
                return VL_FALLBACK;
            }
            out[key == 4 ? VL_SLOT_EXP : key == 5 ? VL_SLOT_NBF : VL_SLOT_IAT] = (int64_t)value;
            break;
        case 7: /* cti */
            bit = SEEN_CTI;
            if ((seen & bit) || rd_string(&r, 2, &o, &l) != VL_OK || l != 16) {
                return VL_FALLBACK;
            }
            out[VL_SLOT_CTI] = (int64_t)o;
            break;
        case 8: /* cnf: the holder's device key (its encoding is checked in Python, as parse_cnf does) */
            bit = SEEN_CNF;
            if ((seen & bit) || rd_cnf(&r, out) != VL_OK) {
                return VL_FALLBACK;
            }
            break;
        case 65535: /* status */
            bit = SEEN_STATUS;
            if ((seen & bit) || rd_status(&r, out) != VL_OK) {
                return VL_FALLBACK;
            }
            break;
        case -65537:
            bit = SEEN_OFFICIAL;
            if ((seen & bit) || rd_official(&r, out) != VL_OK) {
                return VL_FALLBACK;
            }
            break;
        default: /* anything else: the Python checks */
            return VL_FALLBACK;
        }
        seen |= bit;
    }
    unsigned required = SEEN_ISS | SEEN_EXP | SEEN_IAT | SEEN_CTI | SEEN_OFFICIAL;
    if (r.i != r.n || (seen & required) != required || out[VL_SLOT_EXP] <= out[VL_SLOT_IAT]) {
        return VL_FALLBACK;
    }
    return VL_OK;
}
