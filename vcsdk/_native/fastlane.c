/* The compiled fast lane: the byte-level work of a first scan, in C.
 *
 * QR text -> prefix check -> Base45 (RFC 9285, every section 6 reject) -> zlib inflate (absolute
 * output cap, stream must end, nothing may trail) -> COSE_Sign1 split of the one canonical shape
 * the issuers emit -> Sig_structure -> Ed25519 verify (libsodium, detached).
 *
 * Every function returns VL_OK or VL_FALLBACK. VL_FALLBACK never names a failure: the caller then
 * hands the input to the pure-Python reference verifier, which decides the verdict and its code.
 * So this file can only ever make an input *faster*, never change what it means.
 *
 * Untrusted bytes are read only through explicit (pointer, length) pairs; every write goes into a
 * buffer of the size fixed at vl_new() from the verifier's limits and is checked against it.
 */
#include "fastlane.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

struct vl_ctx {
    size_t max_text;     /* longest QR text accepted (characters = bytes: ASCII only) */
    size_t max_inflated; /* absolute cap on the inflated COSE bytes */
    uint8_t *raw;        /* Base45-decoded bytes, capacity max_text / 3 * 2 + 1 */
    uint8_t *data;       /* inflated bytes, capacity max_inflated + 1 */
    uint8_t *tbs;        /* Sig_structure, capacity max_inflated + VL_TBS_SLACK */
    size_t raw_cap, data_cap, tbs_cap;
    z_stream zs;
    int zs_ready;
};

#define VL_TBS_SLACK 32

/* Base45 alphabet value of each byte, 0xFF when the byte is not in the alphabet. */
static uint8_t b45_table[256];

static const char B45_ALPHABET[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

int vl_init(void) {
    memset(b45_table, 0xFF, sizeof b45_table);
    for (int i = 0; i < 45; i++) {
        b45_table[(uint8_t)B45_ALPHABET[i]] = (uint8_t)i;
    }
    return sodium_init() < 0 ? -1 : 0;
}

const char *vl_sodium_version(void) { return sodium_version_string(); }

const char *vl_zlib_version(void) { return zlibVersion(); }

void vl_free(vl_ctx *ctx) {
    if (ctx == NULL) {
        return;
    }
    if (ctx->zs_ready) {
        inflateEnd(&ctx->zs);
    }
    free(ctx->raw);
    free(ctx->data);
    free(ctx->tbs);
    free(ctx);
}

vl_ctx *vl_new(size_t max_text, size_t max_inflated) {
    if (max_text == 0 || max_text > VL_MAX_BUFFER || max_inflated == 0 || max_inflated > VL_MAX_BUFFER) {
        return NULL;
    }
    vl_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL) {
        return NULL;
    }
    ctx->max_text = max_text;
    ctx->max_inflated = max_inflated;
    ctx->raw_cap = max_text / 3 * 2 + 2;
    ctx->data_cap = max_inflated + 1;
    ctx->tbs_cap = max_inflated + VL_TBS_SLACK;
    ctx->raw = malloc(ctx->raw_cap);
    ctx->data = malloc(ctx->data_cap);
    ctx->tbs = malloc(ctx->tbs_cap);
    if (ctx->raw == NULL || ctx->data == NULL || ctx->tbs == NULL) {
        vl_free(ctx);
        return NULL;
    }
    if (inflateInit2(&ctx->zs, 15) != Z_OK) { /* 15: zlib header and Adler-32; no gzip, no raw */
        vl_free(ctx);
        return NULL;
    }
    ctx->zs_ready = 1;
    return ctx;
}

/* RFC 9285 decode into ctx->raw; the length lands in *out_len. */
static int b45_decode(vl_ctx *ctx, const uint8_t *text, size_t len, size_t *out_len) {
    if (len % 3 == 1) {
        return VL_FALLBACK;
    }
    size_t need = len / 3 * 2 + (len % 3 == 2 ? 1 : 0);
    if (need > ctx->raw_cap) {
        return VL_FALLBACK;
    }
    uint8_t *out = ctx->raw;
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t c = b45_table[text[i]], d = b45_table[text[i + 1]], e = b45_table[text[i + 2]];
        if ((c | d | e) & 0x80) { /* 0xFF marks a byte outside the alphabet; values are < 45 */
            return VL_FALLBACK;
        }
        uint32_t v = c + 45 * d + 2025 * e;
        if (v > 0xFFFF) {
            return VL_FALLBACK;
        }
        out[o++] = (uint8_t)(v >> 8);
        out[o++] = (uint8_t)(v & 0xFF);
    }
    if (i < len) { /* a final pair */
        uint32_t c = b45_table[text[i]], d = b45_table[text[i + 1]];
        if ((c | d) & 0x80) {
            return VL_FALLBACK;
        }
        uint32_t v = c + 45 * d;
        if (v > 0xFF) {
            return VL_FALLBACK;
        }
        out[o++] = (uint8_t)v;
    }
    *out_len = o;
    return VL_OK;
}

/* Inflate exactly one zlib stream from ctx->raw into ctx->data, at most max_inflated bytes. */
static int inflate_capped(vl_ctx *ctx, size_t in_len, size_t *out_len) {
    z_stream *zs = &ctx->zs;
    if (inflateReset(zs) != Z_OK) {
        return VL_FALLBACK;
    }
    if (in_len > 0xFFFFFFFFu) {
        return VL_FALLBACK;
    }
    zs->next_in = ctx->raw;
    zs->avail_in = (uInt)in_len;
    zs->next_out = ctx->data;
    zs->avail_out = (uInt)ctx->data_cap; /* max_inflated + 1: one byte more tells "over the cap" */
    int rc = inflate(zs, Z_FINISH);
    if (rc != Z_STREAM_END) { /* corrupt, truncated, preset dictionary, or over the cap */
        return VL_FALLBACK;
    }
    if (zs->avail_in != 0) { /* bytes after the end of the stream */
        return VL_FALLBACK;
    }
    size_t produced = ctx->data_cap - zs->avail_out;
    if (produced > ctx->max_inflated) {
        return VL_FALLBACK;
    }
    *out_len = produced;
    return VL_OK;
}

/* A definite byte string at *pos (lengths up to 65535, as the pure fast lane reads them). */
static int bstr_at(const uint8_t *data, size_t len, size_t *pos, size_t *start, size_t *blen) {
    size_t p = *pos;
    if (p >= len) {
        return VL_FALLBACK;
    }
    uint8_t head = data[p];
    size_t s, l;
    if (head >= 0x40 && head <= 0x57) {
        s = p + 1;
        l = (size_t)(head - 0x40);
    } else if (head == 0x58 && p + 1 < len) {
        s = p + 2;
        l = data[p + 1];
    } else if (head == 0x59 && p + 2 < len) {
        s = p + 3;
        l = ((size_t)data[p + 1] << 8) | data[p + 2];
    } else {
        return VL_FALLBACK;
    }
    if (s > len || l > len - s) {
        return VL_FALLBACK;
    }
    *start = s;
    *blen = l;
    *pos = s + l;
    return VL_OK;
}

static const uint8_t CREDENTIAL_HEAD[5] = {0xA2, 0x01, 0x27, 0x04, 0x48}; /* {1: -8, 4: h'8 bytes'} */
static const uint8_t PRESENTATION_PROTECTED[3] = {0xA1, 0x01, 0x27};      /* {1: -8} */
static const uint8_t SIG1_PREFIX[12] = {0x84, 0x6A, 'S', 'i', 'g', 'n', 'a', 't', 'u', 'r', 'e', '1'};

static size_t put_bstr_head(uint8_t *out, size_t len) {
    if (len < 24) {
        out[0] = (uint8_t)(0x40 | len);
        return 1;
    }
    if (len < 0x100) {
        out[0] = 0x58;
        out[1] = (uint8_t)len;
        return 2;
    }
    out[0] = 0x59;
    out[1] = (uint8_t)(len >> 8);
    out[2] = (uint8_t)(len & 0xFF);
    return 3;
}

int vl_sign1(vl_ctx *ctx, const uint8_t *data, size_t len, int kind, vl_parts *parts) {
    memset(parts, 0, sizeof *parts);
    if (len < 2 || data[0] != 0xD2 || data[1] != 0x84) { /* tag 18, array of 4 */
        return VL_FALLBACK;
    }
    size_t pos = 2, prot, prot_len, payload, payload_len, sig, sig_len;
    if (bstr_at(data, len, &pos, &prot, &prot_len) != VL_OK) {
        return VL_FALLBACK;
    }
    if (pos >= len || data[pos] != 0xA0) { /* empty unprotected map */
        return VL_FALLBACK;
    }
    pos += 1;
    if (bstr_at(data, len, &pos, &payload, &payload_len) != VL_OK ||
        bstr_at(data, len, &pos, &sig, &sig_len) != VL_OK || pos != len) {
        return VL_FALLBACK;
    }
    if (kind == VL_CREDENTIAL) {
        if (prot_len != 13 || memcmp(data + prot, CREDENTIAL_HEAD, sizeof CREDENTIAL_HEAD) != 0) {
            return VL_FALLBACK;
        }
        parts->kid = data + prot + 5;
        parts->kid_len = 8;
    } else if (kind == VL_PRESENTATION) {
        if (prot_len != 3 || memcmp(data + prot, PRESENTATION_PROTECTED, 3) != 0) {
            return VL_FALLBACK;
        }
    } else {
        return VL_FALLBACK;
    }
    /* ["Signature1", protected, h'', payload]; protected and payload are at most 65535 bytes */
    size_t need = sizeof SIG1_PREFIX + 3 + prot_len + 1 + 3 + payload_len + sig_len; /* then the signature */
    if (need > ctx->tbs_cap) {
        return VL_FALLBACK;
    }
    uint8_t *t = ctx->tbs;
    size_t o = 0;
    memcpy(t, SIG1_PREFIX, sizeof SIG1_PREFIX);
    o += sizeof SIG1_PREFIX;
    o += put_bstr_head(t + o, prot_len);
    memcpy(t + o, data + prot, prot_len);
    o += prot_len;
    t[o++] = 0x40; /* external_aad: empty */
    o += put_bstr_head(t + o, payload_len);
    memcpy(t + o, data + payload, payload_len);
    o += payload_len;
    memcpy(t + o, data + sig, sig_len); /* a copy right after the Sig_structure: one read gets both */
    parts->payload = data + payload;
    parts->payload_len = payload_len;
    parts->signature = data + sig;
    parts->signature_len = sig_len;
    parts->tbs = t;
    parts->tbs_len = o;
    return VL_OK;
}

int vl_open(vl_ctx *ctx, const uint8_t *text, size_t len, const uint8_t *prefix, size_t prefix_len, int kind,
            vl_parts *parts) {
    memset(parts, 0, sizeof *parts);
    if (len > ctx->max_text || len < prefix_len || memcmp(text, prefix, prefix_len) != 0) {
        return VL_FALLBACK;
    }
    size_t raw_len, data_len;
    if (b45_decode(ctx, text + prefix_len, len - prefix_len, &raw_len) != VL_OK) {
        return VL_FALLBACK;
    }
    if (inflate_capped(ctx, raw_len, &data_len) != VL_OK) {
        return VL_FALLBACK;
    }
    return vl_sign1(ctx, ctx->data, data_len, kind, parts);
}

int vl_verify(const uint8_t *signature, size_t signature_len, const uint8_t *message, size_t message_len,
              const uint8_t *public_key, size_t public_key_len) {
    if (signature_len != crypto_sign_ed25519_BYTES || public_key_len != crypto_sign_ed25519_PUBLICKEYBYTES) {
        return VL_FALLBACK;
    }
    return crypto_sign_ed25519_verify_detached(signature, message, message_len, public_key) == 0 ? VL_OK
                                                                                                   : VL_FALLBACK;
}

int vl_verify_parts(const vl_parts *parts, const uint8_t *public_key, size_t public_key_len) {
    return vl_verify(parts->signature, parts->signature_len, parts->tbs, parts->tbs_len, public_key, public_key_len);
}
