/* The compiled fast lane's C interface (cffi API mode; vcsdk/_native/build_fastlane.py). */
#ifndef VCSDK_FASTLANE_H
#define VCSDK_FASTLANE_H

#include <stddef.h>
#include <stdint.h>

#define VL_OK 0
#define VL_FALLBACK 1
#define VL_CREDENTIAL 0   /* protected header exactly {1: -8, 4: h'<8 bytes>'} */
#define VL_PRESENTATION 1 /* protected header exactly {1: -8} */
#define VL_MAX_BUFFER (16u * 1024u * 1024u) /* larger limits: the pure lane */

typedef struct vl_ctx vl_ctx;

/* Pointers into the context's buffers (or into the caller's data for vl_sign1): valid until the
 * next call on the same context. A copy of the signature follows the Sig_structure in the
 * context's buffer (tbs[tbs_len .. tbs_len + signature_len)), and for a credential the kid is
 * tbs[18 .. 26) and the payload the last payload_len bytes of the Sig_structure: one read of
 * tbs_len + signature_len bytes gives every part. */
typedef struct {
    const uint8_t *kid;
    size_t kid_len;
    const uint8_t *payload;
    size_t payload_len;
    const uint8_t *signature;
    size_t signature_len;
    const uint8_t *tbs;
    size_t tbs_len;
} vl_parts;

int vl_init(void);
const char *vl_sodium_version(void);
const char *vl_zlib_version(void);
vl_ctx *vl_new(size_t max_text, size_t max_inflated);
void vl_free(vl_ctx *ctx);
int vl_open(vl_ctx *ctx, const uint8_t *text, size_t len, const uint8_t *prefix, size_t prefix_len, int kind,
            vl_parts *parts);
int vl_sign1(vl_ctx *ctx, const uint8_t *data, size_t len, int kind, vl_parts *parts);
/* vl_claims (claims.c): the CWT payload of an official-ID credential in its canonical shape, as
 * VL_CLAIM_SLOTS integers; -1 marks an absent claim. Text and byte strings are (offset, length)
 * pairs into the payload; birth_date is days since 1970-01-01 and agency_code the integer, each
 * in the first slot of its pair. */
#define VL_SLOT_ISS 0        /* iss: offset, length */
#define VL_SLOT_IAT 2        /* iat */
#define VL_SLOT_EXP 3        /* exp */
#define VL_SLOT_NBF 4        /* nbf */
#define VL_SLOT_CTI 5        /* cti: offset (16 bytes) */
#define VL_SLOT_STATUS_IDX 6 /* status_list idx */
#define VL_SLOT_URI 7        /* status_list uri: offset, length */
#define VL_SLOT_OFFICIAL 9   /* official-ID key k (1-10) at VL_SLOT_OFFICIAL + 2 * (k - 1) */
#define VL_SLOT_CNF 29       /* cnf: offset of the 32-byte Ed25519 key */
#define VL_CLAIM_SLOTS 30
int vl_claims(const uint8_t *payload, size_t len, int64_t *out);
int vl_verify(const uint8_t *signature, size_t signature_len, const uint8_t *message, size_t message_len,
              const uint8_t *public_key, size_t public_key_len);
/* vl_verify of the signature and Sig_structure that vl_open or vl_sign1 last put in parts. */
int vl_verify_parts(const vl_parts *parts, const uint8_t *public_key, size_t public_key_len);

#endif
