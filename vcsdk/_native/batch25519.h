/* Ed25519 batch verification (see batch25519.c for the semantics). */
#ifndef VCSDK_BATCH25519_H
#define VCSDK_BATCH25519_H
#include <stddef.h>

#define VCB_MAX_ITEMS 256

int vcb_init(void);
int vcb_is_valid_point(const unsigned char s[32]);
int vcb_verify(size_t n, const unsigned char *const *msgs, const size_t *mlens, const unsigned char *sigs,
               const unsigned char *pks, unsigned char *ok);
/* vcb_verify over n messages laid end to end in joined (message i: mlens[i] bytes after message i - 1). */
int vcb_verify_joined(size_t n, const unsigned char *joined, const size_t *mlens, const unsigned char *sigs,
                      const unsigned char *pks, unsigned char *ok);
#endif
