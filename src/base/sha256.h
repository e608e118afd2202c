/*
 * sha256.h — SHA-256 (FIPS 180-4), used to compute a manifest's digest
 * when a registry does not send Docker-Content-Digest.
 */
#ifndef SG_SHA256_H
#define SG_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SG_SHA256_LEN 32

typedef struct {
    uint32_t h[8];
    uint64_t total;      /* bytes hashed so far */
    uint8_t block[64];
    size_t fill;         /* bytes waiting in block */
} sg_sha256;

void sg_sha256_init(sg_sha256 *c);
void sg_sha256_update(sg_sha256 *c, const void *data, size_t len);
void sg_sha256_final(sg_sha256 *c, uint8_t out[SG_SHA256_LEN]);

/* One-shot: 64 lowercase hex digits and a NUL into hex. */
void sg_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
