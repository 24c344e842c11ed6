/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sha256.h - SHA-256 (FIPS 180-4), so that echo's TCP client can print the
 * digest of what it sent and received, comparable with sha256sum and
 * Python's hashlib on the Linux side. Any thread; no shared state.
 */
#ifndef RIPTIDE_ECHO_SHA256_H
#define RIPTIDE_ECHO_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len; /* bytes hashed */
	uint8_t buf[64];
	uint32_t nbuf;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
/* The digest as 64 lowercase hex digits and a NUL. */
void sha256_hex(struct sha256 *s, char out[65]);

#endif
