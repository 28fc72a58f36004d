/*
 * Ed25519 batch verification for vcsdk (RFC 8032 curve edwards25519).
 *
 * Written for this project from the mathematics: field arithmetic mod p = 2^255 - 19 in radix
 * 2^51 (five 64-bit limbs, products in unsigned __int128), points in extended twisted-Edwards
 * coordinates (X:Y:Z:T) with x = X/Z, y = Y/Z, xy = T/Z (Hisil-Wong-Carter-Dawson formulas for
 * a = -1), decompression as in RFC 8032 section 5.1.3, and a variable-time Straus multi-scalar
 * multiplication with width-5 signed sliding windows. Everything here handles public data only
 * (signatures, public keys, messages), so variable time is fine.
 *
 * libsodium supplies SHA-512, arithmetic mod L and the random batch coefficients.
 *
 * Semantics: vcb_verify() marks item i ok only when (a) it passes the same pre-checks as
 * libsodium's crypto_sign_verify_detached (S < L, R and A canonical encodings of curve points,
 * neither of small order), (b) A and R both lie in the prime-order subgroup (check_points, two
 * points at a time: a Tate-pairing symbol and one point halving, no multiplication by L; vcb_is_valid_point() is
 * the same test as libsodium's crypto_core_ed25519_is_valid_point), and (c) a random linear
 * combination sum z_i (S_i B - h_i A_i - R_i) that contains it equals the identity, with z_i
 * uniform 128-bit. The caller verifies every item left unmarked on its own. A failing combination
 * is bisected down to VCB_LEAF items, which stay unmarked, except where both halves of at most
 * VCB_DENSE items fail (many bad signatures: single checks are cheaper than bisecting).
 *
 * Why (b): with A and R of prime order every term S_i B - h_i A_i - R_i lies in the prime-order
 * subgroup, so the combination vanishes (except with probability about 2^-128) only when every
 * term does, i.e. exactly when libsodium's cofactorless check R = S B - h A holds. A torsion
 * component in R (which only the private-key holder can put into an otherwise valid signature)
 * would instead cancel whenever z_i is a multiple of its order; under a key with a torsion
 * component libsodium itself accepts some signatures whose terms are not zero.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "batch25519.h"

/* The hot group and exponentiation routines are compiled twice on x86-64 with glibc (GCC or clang
 * function multi-versioning, chosen once at load time): for CPUs with BMI2 (mulx: about 15 %
 * fewer instructions per field multiplication) and for any x86-64. The field multiplication and
 * squaring are inlined into them, so they get the clone's instruction set. */
#if defined(__x86_64__) && defined(__GLIBC__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define HOT __attribute__((target_clones("bmi2", "default")))
#endif
#endif
#ifndef HOT
#define HOT
#endif
#define FIELD static inline __attribute__((always_inline))

typedef unsigned __int128 u128;
typedef struct { uint64_t v[5]; } fe;
typedef struct { fe X, Y, Z, T; } ge;          /* extended coordinates */
typedef struct { fe YpX, YmX, Z, T2d; } gec;   /* cached form for additions */

#define MASK51 ((uint64_t)0x7ffffffffffffULL)
#define VCB_LEAF 2
#define VCB_DENSE 32 /* both halves of a failed combination this small fail: single checks */
#define WINDOW_ENTRIES 8 /* odd multiples 1P, 3P, ..., 15P */

static const unsigned char D_BYTES[32] = {
    0xa3, 0x78, 0x59, 0x13, 0xca, 0x4d, 0xeb, 0x75, 0xab, 0xd8, 0x41, 0x41, 0x4d, 0x0a, 0x70, 0x00,
    0x98, 0xe8, 0x79, 0x77, 0x79, 0x40, 0xc7, 0x8c, 0x73, 0xfe, 0x6f, 0x2b, 0xee, 0x6c, 0x03, 0x52};
static const unsigned char D2_BYTES[32] = {
    0x59, 0xf1, 0xb2, 0x26, 0x94, 0x9b, 0xd6, 0xeb, 0x56, 0xb1, 0x83, 0x82, 0x9a, 0x14, 0xe0, 0x00,
    0x30, 0xd1, 0xf3, 0xee, 0xf2, 0x80, 0x8e, 0x19, 0xe7, 0xfc, 0xdf, 0x56, 0xdc, 0xd9, 0x06, 0x24};
static const unsigned char SQRTM1_BYTES[32] = {
    0xb0, 0xa0, 0x0e, 0x4a, 0x27, 0x1b, 0xee, 0xc4, 0x78, 0xe4, 0x2f, 0xad, 0x06, 0x18, 0x43, 0x2f,
    0xa7, 0xd7, 0xfb, 0x3d, 0x99, 0x00, 0x4d, 0x2b, 0x0b, 0xdf, 0xc1, 0x4f, 0x80, 0x24, 0x83, 0x2b};
/* sqrt(-i/d) and sqrt(i/d), i = SQRTM1: the halving's constants for a non-square ratio */
static const unsigned char K_I_BYTES[32] = {
    0xfe, 0xcf, 0xae, 0x60, 0xbf, 0x5a, 0xf7, 0xcc, 0x30, 0xc9, 0xa9, 0xfe, 0x22, 0x71, 0xa9, 0x0a,
    0x07, 0x17, 0xc1, 0x7d, 0xb2, 0xeb, 0xa3, 0x6a, 0x43, 0xd3, 0x90, 0x72, 0xf3, 0x8d, 0x99, 0x0d};
static const unsigned char K_MI_BYTES[32] = {
    0x40, 0x25, 0x6a, 0xc5, 0xe4, 0xc7, 0x3a, 0xf6, 0x05, 0x7c, 0x6d, 0x51, 0x20, 0xf9, 0x0c, 0x43,
    0x62, 0xab, 0x4a, 0xd9, 0x01, 0x5b, 0xc3, 0x65, 0x59, 0x8d, 0xac, 0xa0, 0x48, 0xba, 0xc4, 0x00};
/* the group order L = 2^252 + 27742317777372353535851937790883648493, little-endian */
static const unsigned char L_BYTES[32] = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};
/* the base point B: y = 4/5, x even */
static const unsigned char B_BYTES[32] = {
    0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
    0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66};

static fe FE_D, FE_D2, FE_SQRTM1, FE_ONE, FE_K_I, FE_K_MI;
static gec B_TABLE[WINDOW_ENTRIES];
static int initialised = 0;

/* ------------------------------------------------------------------ field arithmetic */

static uint64_t load64(const unsigned char *s) {
    uint64_t r = 0;
    for (int i = 7; i >= 0; i--) r = (r << 8) | s[i];
    return r;
}

static void fe_frombytes(fe *h, const unsigned char s[32]) { /* ignores bit 255 */
    h->v[0] = load64(s) & MASK51;
    h->v[1] = (load64(s + 6) >> 3) & MASK51;
    h->v[2] = (load64(s + 12) >> 6) & MASK51;
    h->v[3] = (load64(s + 19) >> 1) & MASK51;
    h->v[4] = (load64(s + 24) >> 12) & MASK51;
}

static void fe_carry(fe *h) {
    uint64_t c;
    c = h->v[0] >> 51; h->v[0] &= MASK51; h->v[1] += c;
    c = h->v[1] >> 51; h->v[1] &= MASK51; h->v[2] += c;
    c = h->v[2] >> 51; h->v[2] &= MASK51; h->v[3] += c;
    c = h->v[3] >> 51; h->v[3] &= MASK51; h->v[4] += c;
    c = h->v[4] >> 51; h->v[4] &= MASK51; h->v[0] += 19 * c;
}

static void fe_tobytes(unsigned char s[32], const fe *f) { /* the unique value < p */
    fe h = *f;
    fe_carry(&h);
    fe_carry(&h);
    uint64_t q = (h.v[0] + 19) >> 51;
    q = (h.v[1] + q) >> 51;
    q = (h.v[2] + q) >> 51;
    q = (h.v[3] + q) >> 51;
    q = (h.v[4] + q) >> 51; /* 1 exactly when h >= p */
    h.v[0] += 19 * q;
    uint64_t c;
    c = h.v[0] >> 51; h.v[0] &= MASK51; h.v[1] += c;
    c = h.v[1] >> 51; h.v[1] &= MASK51; h.v[2] += c;
    c = h.v[2] >> 51; h.v[2] &= MASK51; h.v[3] += c;
    c = h.v[3] >> 51; h.v[3] &= MASK51; h.v[4] += c;
    h.v[4] &= MASK51; /* drops 2^255, completing the subtraction of p */
    uint64_t w[4];
    w[0] = h.v[0] | (h.v[1] << 51);
    w[1] = (h.v[1] >> 13) | (h.v[2] << 38);
    w[2] = (h.v[2] >> 26) | (h.v[3] << 25);
    w[3] = (h.v[3] >> 39) | (h.v[4] << 12);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 8; j++) s[8 * i + j] = (unsigned char)(w[i] >> (8 * j));
}

static void fe_add(fe *h, const fe *f, const fe *g) {
    for (int i = 0; i < 5; i++) h->v[i] = f->v[i] + g->v[i];
    fe_carry(h);
}

static void fe_sub(fe *h, const fe *f, const fe *g) { /* f + 4p - g */
    h->v[0] = f->v[0] + 0x1fffffffffffb4ULL - g->v[0];
    for (int i = 1; i < 5; i++) h->v[i] = f->v[i] + 0x1ffffffffffffcULL - g->v[i];
    fe_carry(h);
}

static void fe_neg(fe *h, const fe *f) {
    fe zero = {{0, 0, 0, 0, 0}};
    fe_sub(h, &zero, f);
}

FIELD void fe_reduce128(fe *h, u128 r0, u128 r1, u128 r2, u128 r3, u128 r4) {
    r1 += (uint64_t)(r0 >> 51);
    r2 += (uint64_t)(r1 >> 51);
    r3 += (uint64_t)(r2 >> 51);
    r4 += (uint64_t)(r3 >> 51);
    uint64_t c = (uint64_t)(r4 >> 51);
    h->v[0] = ((uint64_t)r0 & MASK51) + 19 * c;
    h->v[1] = (uint64_t)r1 & MASK51;
    h->v[2] = (uint64_t)r2 & MASK51;
    h->v[3] = (uint64_t)r3 & MASK51;
    h->v[4] = (uint64_t)r4 & MASK51;
    c = h->v[0] >> 51;
    h->v[0] &= MASK51;
    h->v[1] += c;
}

FIELD void fe_mul(fe *h, const fe *f, const fe *g) {
    uint64_t a0 = f->v[0], a1 = f->v[1], a2 = f->v[2], a3 = f->v[3], a4 = f->v[4];
    uint64_t b0 = g->v[0], b1 = g->v[1], b2 = g->v[2], b3 = g->v[3], b4 = g->v[4];
    uint64_t b1_19 = 19 * b1, b2_19 = 19 * b2, b3_19 = 19 * b3, b4_19 = 19 * b4;
    u128 r0 = (u128)a0 * b0 + (u128)a1 * b4_19 + (u128)a2 * b3_19 + (u128)a3 * b2_19 + (u128)a4 * b1_19;
    u128 r1 = (u128)a0 * b1 + (u128)a1 * b0 + (u128)a2 * b4_19 + (u128)a3 * b3_19 + (u128)a4 * b2_19;
    u128 r2 = (u128)a0 * b2 + (u128)a1 * b1 + (u128)a2 * b0 + (u128)a3 * b4_19 + (u128)a4 * b3_19;
    u128 r3 = (u128)a0 * b3 + (u128)a1 * b2 + (u128)a2 * b1 + (u128)a3 * b0 + (u128)a4 * b4_19;
    u128 r4 = (u128)a0 * b4 + (u128)a1 * b3 + (u128)a2 * b2 + (u128)a3 * b1 + (u128)a4 * b0;
    fe_reduce128(h, r0, r1, r2, r3, r4);
}

FIELD void fe_sq(fe *h, const fe *f) {
    uint64_t a0 = f->v[0], a1 = f->v[1], a2 = f->v[2], a3 = f->v[3], a4 = f->v[4];
    uint64_t a0_2 = 2 * a0, a1_2 = 2 * a1, a1_38 = 38 * a1, a2_38 = 38 * a2, a3_38 = 38 * a3;
    uint64_t a3_19 = 19 * a3, a4_19 = 19 * a4;
    u128 r0 = (u128)a0 * a0 + (u128)a1_38 * a4 + (u128)a2_38 * a3;
    u128 r1 = (u128)a0_2 * a1 + (u128)a2_38 * a4 + (u128)a3_19 * a3;
    u128 r2 = (u128)a0_2 * a2 + (u128)a1 * a1 + (u128)a3_38 * a4;
    u128 r3 = (u128)a0_2 * a3 + (u128)a1_2 * a2 + (u128)a4_19 * a4;
    u128 r4 = (u128)a0_2 * a4 + (u128)a1_2 * a3 + (u128)a2 * a2;
    fe_reduce128(h, r0, r1, r2, r3, r4);
}

FIELD void fe_sqn(fe *h, const fe *f, int n) {
    fe_sq(h, f);
    for (int i = 1; i < n; i++) fe_sq(h, h);
}

/* z^((p-5)/8) = z^(2^252 - 3) */
HOT static void fe_pow22523(fe *out, const fe *z) {
    fe t0, t1, t2;
    fe_sq(&t0, z);               /* z^2 */
    fe_sqn(&t1, &t0, 2);         /* z^8 */
    fe_mul(&t1, z, &t1);         /* z^9 */
    fe_mul(&t0, &t0, &t1);       /* z^11 */
    fe_sq(&t0, &t0);             /* z^22 */
    fe_mul(&t0, &t1, &t0);       /* z^31 = z^(2^5 - 1) */
    fe_sqn(&t1, &t0, 5);
    fe_mul(&t0, &t1, &t0);       /* 2^10 - 1 */
    fe_sqn(&t1, &t0, 10);
    fe_mul(&t1, &t1, &t0);       /* 2^20 - 1 */
    fe_sqn(&t2, &t1, 20);
    fe_mul(&t1, &t2, &t1);       /* 2^40 - 1 */
    fe_sqn(&t1, &t1, 10);
    fe_mul(&t0, &t1, &t0);       /* 2^50 - 1 */
    fe_sqn(&t1, &t0, 50);
    fe_mul(&t1, &t1, &t0);       /* 2^100 - 1 */
    fe_sqn(&t2, &t1, 100);
    fe_mul(&t1, &t2, &t1);       /* 2^200 - 1 */
    fe_sqn(&t1, &t1, 50);
    fe_mul(&t0, &t1, &t0);       /* 2^250 - 1 */
    fe_sqn(&t0, &t0, 2);         /* 2^252 - 4 */
    fe_mul(out, &t0, z);         /* 2^252 - 3 */
}

/* fe_pow22523 of two independent elements, step by step together: each squaring chain waits on
 * its own previous result, so two chains interleaved keep the multiplier busy (about 1.5x the
 * throughput of two calls on one core). out0/z0 and out1/z1 may alias each other pairwise. */
FIELD void fe_sqn_x2(fe *h0, const fe *f0, fe *h1, const fe *f1, int n) {
    fe_sq(h0, f0);
    fe_sq(h1, f1);
    for (int i = 1; i < n; i++) {
        fe_sq(h0, h0);
        fe_sq(h1, h1);
    }
}

FIELD void fe_mul_x2(fe *h0, const fe *f0, const fe *g0, fe *h1, const fe *f1, const fe *g1) {
    fe_mul(h0, f0, g0);
    fe_mul(h1, f1, g1);
}

HOT static void fe_pow22523_x2(fe *out0, const fe *z0, fe *out1, const fe *z1) {
    fe a0 = *z0, a1 = *z1, t0, t1, t2, u0, u1, u2;
    fe_sqn_x2(&t0, &a0, &u0, &a1, 1);             /* z^2 */
    fe_sqn_x2(&t1, &t0, &u1, &u0, 2);             /* z^8 */
    fe_mul_x2(&t1, &a0, &t1, &u1, &a1, &u1);      /* z^9 */
    fe_mul_x2(&t0, &t0, &t1, &u0, &u0, &u1);      /* z^11 */
    fe_sqn_x2(&t0, &t0, &u0, &u0, 1);             /* z^22 */
    fe_mul_x2(&t0, &t1, &t0, &u0, &u1, &u0);      /* z^31 = z^(2^5 - 1) */
    fe_sqn_x2(&t1, &t0, &u1, &u0, 5);
    fe_mul_x2(&t0, &t1, &t0, &u0, &u1, &u0);      /* 2^10 - 1 */
    fe_sqn_x2(&t1, &t0, &u1, &u0, 10);
    fe_mul_x2(&t1, &t1, &t0, &u1, &u1, &u0);      /* 2^20 - 1 */
    fe_sqn_x2(&t2, &t1, &u2, &u1, 20);
    fe_mul_x2(&t1, &t2, &t1, &u1, &u2, &u1);      /* 2^40 - 1 */
    fe_sqn_x2(&t1, &t1, &u1, &u1, 10);
    fe_mul_x2(&t0, &t1, &t0, &u0, &u1, &u0);      /* 2^50 - 1 */
    fe_sqn_x2(&t1, &t0, &u1, &u0, 50);
    fe_mul_x2(&t1, &t1, &t0, &u1, &u1, &u0);      /* 2^100 - 1 */
    fe_sqn_x2(&t2, &t1, &u2, &u1, 100);
    fe_mul_x2(&t1, &t2, &t1, &u1, &u2, &u1);      /* 2^200 - 1 */
    fe_sqn_x2(&t1, &t1, &u1, &u1, 50);
    fe_mul_x2(&t0, &t1, &t0, &u0, &u1, &u0);      /* 2^250 - 1 */
    fe_sqn_x2(&t0, &t0, &u0, &u0, 2);             /* 2^252 - 4 */
    fe_mul_x2(out0, &t0, &a0, out1, &u0, &a1);    /* 2^252 - 3 */
}

static int fe_iszero(const fe *f) {
    unsigned char a[32];
    static const unsigned char zero[32];
    fe_tobytes(a, f);
    return memcmp(a, zero, 32) == 0;
}

static int fe_equal(const fe *f, const fe *g) {
    fe d;
    fe_sub(&d, f, g);
    return fe_iszero(&d);
}

static int fe_isnegative(const fe *f) {
    unsigned char a[32];
    fe_tobytes(a, f);
    return a[0] & 1;
}

/* ------------------------------------------------------------------ points */

static void ge_identity(ge *p) {
    memset(p, 0, sizeof *p);
    p->Y.v[0] = 1;
    p->Z.v[0] = 1;
}

static int ge_is_identity(const ge *p) { return fe_iszero(&p->X) && fe_equal(&p->Y, &p->Z); }

static void ge_neg(ge *r, const ge *p) {
    fe_neg(&r->X, &p->X);
    r->Y = p->Y;
    r->Z = p->Z;
    fe_neg(&r->T, &p->T);
}

static void ge_to_cached(gec *c, const ge *p) {
    fe_add(&c->YpX, &p->Y, &p->X);
    fe_sub(&c->YmX, &p->Y, &p->X);
    c->Z = p->Z;
    fe_mul(&c->T2d, &p->T, &FE_D2);
}

/* r = p + q (a = -1 twisted Edwards, unified addition in extended coordinates) */
HOT static void ge_add(ge *r, const ge *p, const gec *q) {
    fe a, b, c, d, e, f, g, h;
    fe_sub(&a, &p->Y, &p->X);
    fe_mul(&a, &a, &q->YmX);
    fe_add(&b, &p->Y, &p->X);
    fe_mul(&b, &b, &q->YpX);
    fe_mul(&c, &p->T, &q->T2d);
    fe_mul(&d, &p->Z, &q->Z);
    fe_add(&d, &d, &d);
    fe_sub(&e, &b, &a);
    fe_sub(&f, &d, &c);
    fe_add(&g, &d, &c);
    fe_add(&h, &b, &a);
    fe_mul(&r->X, &e, &f);
    fe_mul(&r->Y, &g, &h);
    fe_mul(&r->T, &e, &h);
    fe_mul(&r->Z, &f, &g);
}

/* r = p - q */
HOT static void ge_sub(ge *r, const ge *p, const gec *q) {
    fe a, b, c, d, e, f, g, h;
    fe_sub(&a, &p->Y, &p->X);
    fe_mul(&a, &a, &q->YpX);
    fe_add(&b, &p->Y, &p->X);
    fe_mul(&b, &b, &q->YmX);
    fe_mul(&c, &p->T, &q->T2d);
    fe_mul(&d, &p->Z, &q->Z);
    fe_add(&d, &d, &d);
    fe_sub(&e, &b, &a);
    fe_add(&f, &d, &c);
    fe_sub(&g, &d, &c);
    fe_add(&h, &b, &a);
    fe_mul(&r->X, &e, &f);
    fe_mul(&r->Y, &g, &h);
    fe_mul(&r->T, &e, &h);
    fe_mul(&r->Z, &f, &g);
}

/* r = 2p */
HOT static void ge_double(ge *r, const ge *p) {
    fe a, b, c, e, f, g, h, t;
    fe_sq(&a, &p->X);
    fe_sq(&b, &p->Y);
    fe_sq(&c, &p->Z);
    fe_add(&c, &c, &c);
    fe_add(&h, &a, &b);
    fe_add(&t, &p->X, &p->Y);
    fe_sq(&t, &t);
    fe_sub(&e, &h, &t);
    fe_sub(&g, &a, &b);
    fe_add(&f, &c, &g);
    fe_mul(&r->X, &e, &f);
    fe_mul(&r->Y, &g, &h);
    fe_mul(&r->T, &e, &h);
    fe_mul(&r->Z, &f, &g);
}

/* A square root of the ratio u/v (variable time; r must alias neither u nor v), in two halves
 * around the exponentiation (sqrt_ratio_start, then fe_pow22523 or fe_pow22523_x2 of two
 * independent ratios, then sqrt_ratio_finish).
 *
 * r = u v^3 (u v^7)^((p-5)/8) gives v r^2 = u (u v^7)^((p-1)/4), and (u v^7)^((p-1)/4) is a
 * fourth root of unity when u v != 0: 1 or -1 exactly when u v^7 (equivalently u/v) is a square.
 * Returns 1 with v r^2 = u (u/v a square, after multiplying r by sqrt(-1) for -1; also u = 0),
 * 2 with v r^2 = i u, 3 with v r^2 = -i u (u/v not a square; i = sqrt(-1) = FE_SQRTM1), and 0
 * when none holds (v = 0 != u). */
FIELD void sqrt_ratio_start(fe *t, fe *v3, const fe *u, const fe *v) { /* t = u v^7, v3 = v^3 */
    fe_sq(v3, v);
    fe_mul(v3, v3, v);
    fe_sq(t, v3);
    fe_mul(t, t, v);
    fe_mul(t, t, u);
}

/* The rest of fe_sqrt_ratio, given pw = (u v^7)^((p-5)/8) and v3 = v^3. */
static int sqrt_ratio_finish(fe *r, const fe *u, const fe *v, const fe *pw, const fe *v3) {
    fe t, check;
    fe_mul(&t, pw, v3);
    fe_mul(r, &t, u);          /* u v^3 (u v^7)^((p-5)/8) */
    fe_sq(&check, r);
    fe_mul(&check, &check, v); /* v r^2 */
    if (fe_equal(&check, u)) return 1;
    fe_neg(&t, u);
    if (fe_equal(&check, &t)) {
        fe_mul(r, r, &FE_SQRTM1);
        return 1;
    }
    fe_mul(&t, u, &FE_SQRTM1);
    if (fe_equal(&check, &t)) return 2;
    fe_neg(&t, &t);
    if (fe_equal(&check, &t)) return 3;
    return 0;
}

/* ------------------------------------------------------------------ point checks, two at a time
 *
 * A lane takes one 32-byte encoding through decoding (RFC 8032 5.1.3, strict: y must be < p; x = 0
 * with the sign bit set is refused), the small-order blocklist and the prime-order subgroup test
 * below. Its four exponentiations are its only expensive steps; between them a lane does a few
 * multiplications. check_points() runs the lanes two by two, each exponentiation of the two
 * lanes as one fe_pow22523_x2; a lane that has failed rides along on a dummy value and stays
 * failed. A single lane (vcb_is_valid_point, the odd one out) runs the same steps with
 * fe_pow22523, so the tests that hold vcb_is_valid_point to libsodium test every step. */
static int small_order(const unsigned char s[32]);

typedef struct {
    const unsigned char *s;
    int alive;
    ge p;          /* the decoded point (affine, Z = 1) */
    fe u, v, v3;   /* the current square root's ratio u/v and v^3 */
    fe t;          /* the exponentiation's input, then its output */
    fe sroot;      /* sqrt(1 + x^2) */
    fe w;          /* the 4E symbol's argument */
} lane;

static void lane_kill(lane *l) {
    l->alive = 0;
    l->t = FE_ONE; /* a dummy exponentiation */
}

/* decoding, up to its exponentiation */
static void lane_start(lane *l, const unsigned char s[32]) {
    unsigned char back[32];
    int sign = s[31] >> 7;
    l->s = s;
    l->alive = 1;
    fe_frombytes(&l->p.Y, s);
    fe_tobytes(back, &l->p.Y);
    back[31] |= (unsigned char)(sign << 7);
    if (memcmp(back, s, 32) != 0) { /* y >= p: not canonical */
        lane_kill(l);
        return;
    }
    fe_sq(&l->u, &l->p.Y);
    fe_mul(&l->v, &l->u, &FE_D);
    fe_sub(&l->u, &l->u, &FE_ONE); /* u = y^2 - 1 */
    fe_add(&l->v, &l->v, &FE_ONE); /* v = d y^2 + 1 (never 0: d is not a square) */
    sqrt_ratio_start(&l->t, &l->v3, &l->u, &l->v);
}

/* decoding, after its exponentiation; then the start of the halving's first square root */
static void lane_decoded(lane *l, int check_small) {
    if (!l->alive) return;
    fe x;
    int sign = l->s[31] >> 7;
    if (sqrt_ratio_finish(&x, &l->u, &l->v, &l->t, &l->v3) != 1 || (fe_iszero(&x) && sign) ||
        (check_small && small_order(l->s))) { /* not on the curve, -0, or of small order */
        lane_kill(l);
        return;
    }
    if (fe_isnegative(&x) != sign) fe_neg(&x, &x);
    l->p.X = x;
    l->p.Z = FE_ONE;
    fe_mul(&l->p.T, &x, &l->p.Y);
    fe_sq(&l->u, &x);
    fe_add(&l->u, &l->u, &FE_ONE); /* 1 + x^2, over v = 1 */
    l->v = FE_ONE;
    sqrt_ratio_start(&l->t, &l->v3, &l->u, &l->v);
}

/* s = sqrt(1 + x^2); then the start of y1^2 = (s + 1) y / (s + y) */
static void lane_rooted(lane *l) {
    if (!l->alive) return;
    if (sqrt_ratio_finish(&l->sroot, &l->u, &l->v, &l->t, &l->v3) != 1) { /* 1 + x^2 not a square: not in 2E */
        lane_kill(l);
        return;
    }
    fe_add(&l->u, &l->sroot, &FE_ONE);
    fe_mul(&l->u, &l->u, &l->p.Y); /* (s + 1) y */
    fe_add(&l->v, &l->sroot, &l->p.Y); /* s + y */
    sqrt_ratio_start(&l->t, &l->v3, &l->u, &l->v);
}

/* the half Q; then the start of its 4E symbol w^((p-1)/4), w = (Z + Y)(Z - Y)^3 (i Z - X)^2 X^2 */
static void lane_halved(lane *l) {
    if (!l->alive) return;
    fe r, t, qx, qy, qz, a, b, c;
    const fe *x = &l->p.X, *s = &l->sroot;
    int root = sqrt_ratio_finish(&r, &l->u, &l->v, &l->t, &l->v3);
    if (root == 1) { /* y1 = r: Q = (r (s - 1) : r x : x) */
        fe_sub(&t, s, &FE_ONE);
        fe_mul(&qx, &r, &t);
        fe_mul(&qy, &r, x);
        qz = *x;
    } else if (root == 2 || root == 3) { /* the other root -s: y1 = K / r */
        const fe *k = root == 2 ? &FE_K_I : &FE_K_MI;
        fe_add(&t, s, &FE_ONE);
        fe_neg(&t, &t);
        fe_mul(&qx, k, &t);
        fe_mul(&qy, k, x);
        fe_mul(&qz, &r, x);
    } else { /* s + y = 0: only at points of small order */
        lane_kill(l);
        return;
    }
    fe_add(&a, &qz, &qy);
    fe_sub(&b, &qz, &qy);
    fe_sq(&t, &b);
    fe_mul(&t, &t, &b);
    fe_mul(&l->w, &a, &t); /* (Z + Y)(Z - Y)^3 */
    fe_mul(&c, &FE_SQRTM1, &qz);
    fe_sub(&c, &c, &qx);
    fe_mul(&c, &c, &qx);
    fe_sq(&c, &c); /* (i Z - X)^2 X^2 */
    fe_mul(&l->w, &l->w, &c);
    l->t = l->w;
}

/* the 4E symbol: w^((p-5)/8) squared, times w, is 1 */
static void lane_finished(lane *l) {
    if (!l->alive) return;
    fe t;
    fe_sq(&t, &l->t);
    fe_mul(&t, &t, &l->w);
    l->alive = fe_equal(&t, &FE_ONE);
}

static void lane_pow(lane *a, lane *b) {
    if (b == NULL)
        fe_pow22523(&a->t, &a->t);
    else
        fe_pow22523_x2(&a->t, &a->t, &b->t, &b->t);
}

/* Decode, blocklist and subgroup-test encodings[0..n): good[i] = 1 and points[i] set when the
 * encoding is canonical, on the curve, not of small order and in the prime-order subgroup
 * (libsodium's crypto_core_ed25519_is_valid_point). Two lanes at a time. */
static void check_points(size_t n, const unsigned char *const *encodings, ge *points, int *good) {
    for (size_t i = 0; i < n; i += 2) {
        lane a, b;
        lane *second = i + 1 < n ? &b : NULL;
        lane_start(&a, encodings[i]);
        if (second) lane_start(second, encodings[i + 1]);
        lane_pow(&a, second);
        lane_decoded(&a, 1);
        if (second) lane_decoded(second, 1);
        lane_pow(&a, second);
        lane_rooted(&a);
        if (second) lane_rooted(second);
        lane_pow(&a, second);
        lane_halved(&a);
        if (second) lane_halved(second);
        lane_pow(&a, second);
        lane_finished(&a);
        if (second) lane_finished(second);
        good[i] = a.alive;
        points[i] = a.p;
        if (second) {
            good[i + 1] = b.alive;
            points[i + 1] = b.p;
        }
    }
}

/* RFC 8032 5.1.3, strict (the lane's first steps; no blocklist, no subgroup test). The result is
 * affine (Z = 1). */
static int ge_decode(ge *p, const unsigned char s[32]) {
    lane l;
    lane_start(&l, s);
    lane_pow(&l, NULL);
    lane_decoded(&l, 0);
    *p = l.p;
    return l.alive ? 0 : -1;
}

/* The y coordinates of the eight points of small order: 0 (order 4), 1 (the identity), p - 1
 * (order 2), and the two of the points of order 8. */
static const unsigned char SMALL_ORDER_Y[5][32] = {
    {0},
    {0x01},
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
     0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
     0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a}};

/* Is the canonical encoding s (ge_decode accepted it) that of a point of small order? Its y is
 * one of five values, whatever the sign bit (libsodium's blocklist, for canonical encodings). */
static int small_order(const unsigned char s[32]) {
    for (int k = 0; k < 5; k++)
        if (memcmp(s, SMALL_ORDER_Y[k], 31) == 0 && (s[31] & 0x7f) == SMALL_ORDER_Y[k][31]) return 1;
    return 0;
}

/* ------------------------------------------------------------------ the prime-order subgroup
 *
 * E(F_p) is cyclic of order 8L (Z/8 x Z/L with L odd), so the prime-order subgroup is 8E, and a
 * point P lies in it exactly when its class in E/8E is zero. No multiplication by L is needed:
 *
 * E/4E: the reduced Tate pairing with the point T4 = (i, 0) of order 4 (Montgomery u = 1),
 * t(T4, P) = f(P)^((p-1)/4) for the function f = (v - v4 u)^2 / u of divisor 4(T4) - 4(O) (the
 * tangent at T4 passes through T2 = 2 T4 = (0, 0)), is a homomorphism onto the fourth roots of
 * unity (they lie in F_p: p = 5 mod 8), non-degenerate, so its kernel is 4E. In Edwards
 * coordinates (u = (1 + y)/(1 - y), v = sqrt(-486664) u / x) and up to fourth powers, which the
 * exponent removes, f(P) is a constant times
 *     w = (Z + Y)(Z - Y)^3 (i Z - X)^2 X^2
 * (homogeneous of degree 8 in (X : Y : Z), so any projective representative gives the same
 * symbol); the constant is a fourth power: w^((p-1)/4) = 1 on the base point, and on every point
 * of 4E. w = 0 only at the points of order 1, 2 and 4.
 *
 * The last bit, by one halving: P is in 8E exactly when P = 2Q with Q in 4E (either rational half:
 * they differ by T2 = 4 T8, which lies in 4E). For P = 2Q, Q = (x1, y1), the doubling formulas
 * x = 2 x1 y1 / (y1^2 - x1^2), y = (y1^2 + x1^2) / (2 - y1^2 + x1^2) give
 *     s = (y1^2 + x1^2) / (y1^2 - x1^2) with s^2 = 1 + x^2,
 *     y1^2 = (s + 1) y / (s + y),  x1 / y1 = (s - 1) / x.
 * So P is in 2E only if 1 + x^2 is a square. Of the two roots +-s, one gives a square (s+1)y/(s+y)
 * and the rational halves; the other gives the halves Q + T with T of order 2 not rational: the
 * product of the two ratios is -1/d, not a square. When the first root gives v r^2 = c u with
 * c = +-i (not a square), the other ratio is (-1/d)(s + y)/((s + 1) y) = (-c/d) / r^2, whose root
 * is K / r with K = sqrt(-c/d) (K_I for c = i, K_MI for c = -i): the half is kept projective,
 * (X1 : Y1 : Z1) = (K (-s - 1) : K x : r x), with no inversion. Three exponentiations in all, plus
 * the one of the decoding; every step is checked against libsodium's [L]P test in the tests. */

/* table[k] = (2k + 1) p */
static void ge_table(gec table[WINDOW_ENTRIES], const ge *p) {
    ge p2, cur = *p;
    gec p2c;
    ge_double(&p2, p);
    ge_to_cached(&p2c, &p2);
    ge_to_cached(&table[0], &cur);
    for (int k = 1; k < WINDOW_ENTRIES; k++) {
        ge_add(&cur, &cur, &p2c);
        ge_to_cached(&table[k], &cur);
    }
}

/* Signed sliding-window digits: a = sum r[i] 2^i, each r[i] zero or odd in [-15, 15]; a < 2^255. */
static void slide(signed char r[256], const unsigned char a[32]) {
    int top = 32;
    while (top > 0 && a[top - 1] == 0) top--; /* the 128-bit coefficients: half the bytes are 0 */
    memset(r, 0, 256);
    for (int i = 0; i < 8 * top; i++) r[i] = (signed char)(1 & (a[i >> 3] >> (i & 7)));
    for (int i = 0; i < 256; i++) {
        if (!r[i]) continue;
        for (int b = 1; b <= 6 && i + b < 256; b++) {
            if (!r[i + b]) continue;
            int up = r[i + b] << b;
            if (r[i] + up <= 15) {
                r[i] = (signed char)(r[i] + up);
                r[i + b] = 0;
            } else if (r[i] - up >= -15) {
                r[i] = (signed char)(r[i] - up);
                for (int k = i + b; k < 256; k++) {
                    if (!r[k]) {
                        r[k] = 1;
                        break;
                    }
                    r[k] = 0;
                }
            } else {
                break;
            }
        }
    }
}

/* Straus: is sum digits_j * point_j the identity? */
static int msm_is_identity(size_t n, const gec *const *tables, const signed char *const *digits) {
    int top = -1;
    for (size_t j = 0; j < n; j++)
        for (int i = 255; i > top; i--)
            if (digits[j][i]) {
                top = i;
                break;
            }
    ge acc;
    ge_identity(&acc);
    for (int i = top; i >= 0; i--) {
        ge_double(&acc, &acc);
        for (size_t j = 0; j < n; j++) {
            int d = digits[j][i];
            if (d > 0)
                ge_add(&acc, &acc, &tables[j][d / 2]);
            else if (d < 0)
                ge_sub(&acc, &acc, &tables[j][(-d) / 2]);
        }
    }
    return ge_is_identity(&acc);
}

static int scalar_canonical(const unsigned char s[32]) { /* s < L */
    for (int i = 31; i >= 0; i--) {
        if (s[i] < L_BYTES[i]) return 1;
        if (s[i] > L_BYTES[i]) return 0;
    }
    return 0;
}

/* ------------------------------------------------------------------ API */

int vcb_init(void) {
    if (initialised) return 0;
    if (sodium_init() < 0) return -1;
    fe_frombytes(&FE_D, D_BYTES);
    fe_frombytes(&FE_D2, D2_BYTES);
    fe_frombytes(&FE_SQRTM1, SQRTM1_BYTES);
    fe_frombytes(&FE_K_I, K_I_BYTES);
    fe_frombytes(&FE_K_MI, K_MI_BYTES);
    memset(&FE_ONE, 0, sizeof FE_ONE);
    FE_ONE.v[0] = 1;
    ge b;
    if (ge_decode(&b, B_BYTES) != 0) return -1;
    ge_table(B_TABLE, &b);
    initialised = 1;
    return 0;
}

/* Exactly libsodium's crypto_core_ed25519_is_valid_point: a canonical encoding of a curve point
 * that is not of small order and lies in the prime-order subgroup. */
int vcb_is_valid_point(const unsigned char s[32]) {
    if (!initialised) return 0;
    ge p;
    int good;
    check_points(1, &s, &p, &good);
    return good;
}

int vcb_are_valid_points(size_t n, const unsigned char *encodings, unsigned char *out) {
    if (!initialised || n > 2 * VCB_MAX_ITEMS) return -1;
    const unsigned char *each[2 * VCB_MAX_ITEMS];
    ge points[2];
    int good[2];
    for (size_t i = 0; i < n; i++) each[i] = encodings + 32 * i;
    for (size_t i = 0; i < n; i += 2) { /* two at a time, as vcb_verify checks keys and R */
        size_t m = n - i < 2 ? n - i : 2;
        check_points(m, each + i, points, good);
        for (size_t j = 0; j < m; j++) out[i + j] = (unsigned char)good[j];
    }
    return 0;
}

typedef struct {
    size_t n, nkeys;
    const unsigned char *sigs;
    const size_t *key_of;          /* item -> key group */
    unsigned char (*h)[32];        /* reduced H(R || A || M) */
    unsigned char (*z)[32];        /* 128-bit coefficients */
    gec (*tables)[WINDOW_ENTRIES]; /* B, then -A_k, then -R_i of the items in `items` order */
    signed char (*digits)[256];
    ge *points;                    /* decoded keys or R, n of them (check_points' output) */
    unsigned char *ok;
} batch;

/* Does sum over items[0..m) of z_i (S_i B - h_i A_i - R_i) vanish? */
static int equation(batch *bt, const size_t *items, size_t m, size_t *item_slot) {
    unsigned char s[32] = {0}, t[32], c[VCB_MAX_ITEMS][32];
    unsigned char used[VCB_MAX_ITEMS] = {0};
    size_t nk = bt->nkeys;
    for (size_t k = 0; k < nk; k++) memset(c[k], 0, 32);
    for (size_t j = 0; j < m; j++) {
        size_t i = items[j];
        crypto_core_ed25519_scalar_mul(t, bt->z[i], bt->sigs + 64 * i + 32);
        crypto_core_ed25519_scalar_add(s, s, t);
        crypto_core_ed25519_scalar_mul(t, bt->z[i], bt->h[i]);
        crypto_core_ed25519_scalar_add(c[bt->key_of[i]], c[bt->key_of[i]], t);
        used[bt->key_of[i]] = 1;
    }
    /* the points involved: B, the keys of these items, their R */
    const gec *tabs[1 + 2 * VCB_MAX_ITEMS];
    const signed char *digs[1 + 2 * VCB_MAX_ITEMS];
    /* the digits of B's and the keys' scalars go to the heap slots 0 and 1 + k (the items' R
     * digits start at 1 + nkeys): a 257 x 256 array here would put 66 KB on the C stack, and a
     * thread with a small stack (musl's default of 128 KB, threading.stack_size) overflows */
    signed char (*key_digits)[256] = bt->digits;
    size_t np = 0;
    slide(key_digits[0], s);
    tabs[np] = B_TABLE;
    digs[np++] = key_digits[0];
    for (size_t k = 0; k < nk; k++) {
        if (!used[k]) continue;
        slide(key_digits[1 + k], c[k]);
        tabs[np] = bt->tables[1 + k];
        digs[np++] = key_digits[1 + k];
    }
    for (size_t j = 0; j < m; j++) {
        size_t slot = item_slot[items[j]];
        tabs[np] = bt->tables[slot];
        digs[np++] = bt->digits[slot];
    }
    return msm_is_identity(np, tabs, digs);
}

/* Mark the items of a failed combination that smaller combinations prove. Both halves are tried;
 * a half that fails is bisected further, so a lone bad signature is found in about log2(m) small
 * combinations. But when both halves of at most VCB_DENSE items fail, bad signatures are dense
 * there and bisecting on would cost more than the single checks it saves (a batch of nothing but
 * forgeries cost three single checks per signature): those items are left to the caller's
 * single check. */
static void settle_failed(batch *bt, const size_t *items, size_t m, size_t *item_slot) {
    if (m <= VCB_LEAF) return; /* left for the caller's single verification */
    size_t half = m / 2;
    int left = equation(bt, items, half, item_slot);
    int right = equation(bt, items + half, m - half, item_slot);
    if (left)
        for (size_t j = 0; j < half; j++) bt->ok[items[j]] = 1;
    if (right)
        for (size_t j = half; j < m; j++) bt->ok[items[j]] = 1;
    if (!left && !right && m <= VCB_DENSE) return;
    if (!left) settle_failed(bt, items, half, item_slot);
    if (!right) settle_failed(bt, items + half, m - half, item_slot);
}

static void settle(batch *bt, const size_t *items, size_t m, size_t *item_slot) {
    if (m == 0) return;
    if (equation(bt, items, m, item_slot)) {
        for (size_t j = 0; j < m; j++) bt->ok[items[j]] = 1;
        return;
    }
    settle_failed(bt, items, m, item_slot);
}

int vcb_verify(size_t n, const unsigned char *const *msgs, const size_t *mlens, const unsigned char *sigs,
               const unsigned char *pks, unsigned char *ok) {
    if (!initialised || n > VCB_MAX_ITEMS) return -1;
    memset(ok, 0, n);
    if (n == 0) return 0;
    int result = -1;
    size_t key_of[VCB_MAX_ITEMS], items[VCB_MAX_ITEMS], item_slot[VCB_MAX_ITEMS];
    size_t key_first[VCB_MAX_ITEMS];
    int key_good[VCB_MAX_ITEMS];
    size_t nkeys = 0, m = 0;
    batch bt;
    bt.h = malloc(n * sizeof *bt.h);
    bt.z = malloc(n * sizeof *bt.z);
    bt.tables = malloc((1 + 2 * n) * sizeof *bt.tables);
    bt.digits = malloc((1 + 2 * n) * sizeof *bt.digits);
    /* on the heap, not the C stack (a thread's stack may be small): decoded keys, then R */
    bt.points = malloc(n * sizeof *bt.points);
    const unsigned char **encodings = calloc(n, sizeof *encodings);
    size_t *candidates = malloc(n * sizeof *candidates);
    int *r_good = malloc(n * sizeof *r_good);
    unsigned char *coins = malloc(16 * n); /* the coefficients' random bytes, drawn in one call */
    if (bt.h == NULL || bt.z == NULL || bt.tables == NULL || bt.digits == NULL || bt.points == NULL ||
        encodings == NULL || candidates == NULL || r_good == NULL || coins == NULL)
        goto done;
    bt.sigs = sigs;
    bt.ok = ok;
    bt.key_of = key_of;
    /* group equal keys; check each once (canonical, on the curve, not of small order, of prime
     * order), two at a time */
    for (size_t i = 0; i < n; i++) {
        size_t k;
        for (k = 0; k < nkeys; k++)
            if (memcmp(pks + 32 * key_first[k], pks + 32 * i, 32) == 0) break;
        if (k == nkeys) {
            key_first[k] = i;
            encodings[k] = pks + 32 * i;
            nkeys++;
        }
        key_of[i] = k;
    }
    check_points(nkeys, encodings, bt.points, key_good);
    for (size_t k = 0; k < nkeys; k++) {
        if (key_good[k]) {
            ge na;
            ge_neg(&na, &bt.points[k]);
            ge_table(bt.tables[1 + k], &na);
        }
    }
    bt.nkeys = nkeys;
    /* R of every item whose key and S pass, checked two at a time. R must lie in the prime-order
     * subgroup: a torsion component T in R would vanish from the combination whenever z_i T = 0
     * (z_i divisible by the order of T, probability up to 1/2), accepting what the cofactorless
     * single check rejects. Such an R stays unmarked: the caller's single check decides. */
    size_t nc = 0;
    for (size_t i = 0; i < n; i++) {
        if (!key_good[key_of[i]] || !scalar_canonical(sigs + 64 * i + 32)) continue;
        encodings[nc] = sigs + 64 * i;
        candidates[nc++] = i;
    }
    check_points(nc, encodings, bt.points, r_good);
    if (nc) randombytes_buf(coins, 16 * nc); /* one draw (a getrandom call) for the batch, not one per item */
    size_t slot = 1 + nkeys;
    for (size_t c = 0; c < nc; c++) {
        size_t i = candidates[c];
        const unsigned char *sig = sigs + 64 * i;
        ge nr;
        if (!r_good[c]) continue;
        crypto_hash_sha512_state st;
        unsigned char digest[64];
        crypto_hash_sha512_init(&st);
        crypto_hash_sha512_update(&st, sig, 32);
        crypto_hash_sha512_update(&st, pks + 32 * i, 32);
        crypto_hash_sha512_update(&st, msgs[i], mlens[i]);
        crypto_hash_sha512_final(&st, digest);
        crypto_core_ed25519_scalar_reduce(bt.h[i], digest);
        static const unsigned char zero16[16];
        memset(bt.z[i], 0, 32);
        memcpy(bt.z[i], coins + 16 * c, 16);
        while (sodium_memcmp(bt.z[i], zero16, 16) == 0) randombytes_buf(bt.z[i], 16); /* never zero */
        ge_neg(&nr, &bt.points[c]);
        ge_table(bt.tables[slot], &nr);
        slide(bt.digits[slot], bt.z[i]);
        item_slot[i] = slot++;
        items[m++] = i;
    }
    bt.n = n;
    settle(&bt, items, m, item_slot);
    result = 0;
    for (size_t i = 0; i < n; i++) result += ok[i];
done:
    free(bt.h);
    free(bt.z);
    free(bt.tables);
    free(bt.digits);
    free(bt.points);
    free(encodings);
    free(candidates);
    free(r_good);
    free(coins);
    return result;
}

int vcb_verify_joined(size_t n, const unsigned char *joined, size_t joined_len, const size_t *mlens,
                      const unsigned char *sigs, const unsigned char *pks, unsigned char *ok) {
    if (!initialised || n > VCB_MAX_ITEMS) return -1;
    memset(ok, 0, n);
    const unsigned char **msgs = malloc((n ? n : 1) * sizeof *msgs); /* the heap: the C stack stays small */
    if (msgs == NULL) return -1;
    size_t offset = 0;
    int result = -1;
    for (size_t i = 0; i < n; i++) {
        if (mlens[i] > joined_len - offset) goto done; /* the lengths must lie within the buffer */
        msgs[i] = joined + offset;
        offset += mlens[i];
    }
    if (offset == joined_len) result = vcb_verify(n, msgs, mlens, sigs, pks, ok); /* and fill it */
done:
    free(msgs);
    return result;
}
