/* Ed25519 batch verification (see batch25519.c for the semantics). */
#ifndef VCSDK_BATCH25519_H
#define VCSDK_BATCH25519_H
#include <stddef.h>

#define VCB_MAX_ITEMS 256

int vcb_init(void);
int vcb_is_valid_point(const unsigned char s[32]);
/* vcb_is_valid_point of n encodings laid end to end (32 bytes each), two at a time as vcb_verify
 * checks keys and R: out[i] = 1 or 0. -1 when n > 2 * VCB_MAX_ITEMS. */
int vcb_are_valid_points(size_t n, const unsigned char *encodings, unsigned char *out);
int vcb_verify(size_t n, const unsigned char *const *msgs, const size_t *mlens, const unsigned char *sigs,
               const unsigned char *pks, unsigned char *ok);
/* vcb_verify over n messages laid end to end in joined (message i: mlens[i] bytes after message i - 1);
 * -1 (nothing marked) unless the lengths add up to joined_len exactly. */
int vcb_verify_joined(size_t n, const unsigned char *joined, size_t joined_len, const size_t *mlens,
                      const unsigned char *sigs, const unsigned char *pks, unsigned char *ok);
#endif
