/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_proxyproto.c - libFuzzer harness for l4proxy's PROXY protocol
 * readers (apps/l4proxy/proxyproto.c), which read what any client sends when
 * a listener has accept_proxy on: the bytes are read as l4proxy reads them
 * (the first 6 bytes say v1 or v2; v1 up to its "\n", v2 its 16 bytes then
 * the length they give), and also handed to each reader whole, and to the
 * trusted-sources list parser. Invariants: no read past the input; an
 * accepted v1 line writes back (pp_v1_build) to a line that reads back to
 * the same addresses; an accepted v2 header's unique ID fits its field; an
 * accepted v2 header written back reads back the same.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxyproto.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
same_addr(const struct pp_addr *a, const struct pp_addr *b)
{
	CHECK(a->src_ip == b->src_ip && a->dst_ip == b->dst_ip);
	CHECK(a->src_port == b->src_port && a->dst_port == b->dst_port);
}

static void
v1(const uint8_t *data, size_t size)
{
	struct pp_addr a, b;
	char line[PP_V1_MAX + 1];
	size_t n;

	if (pp_v1_parse((const char *)data, size, &a) != 0 || a.local)
		return;
	n = pp_v1_build(line, sizeof(line), &a);
	CHECK(n > 0 && n <= PP_V1_MAX);
	CHECK(pp_v1_parse(line, n, &b) == 0 && !b.local);
	same_addr(&a, &b);
}

static void
v2(const uint8_t *data, size_t size)
{
	struct pp_addr a, b;
	uint8_t out[PP_MAX];
	int len;
	size_t n;

	if (size < PP_V2_HEAD)
		return;
	len = pp_v2_length(data);
	if (len < 0) {
		CHECK(len == -EINVAL || len == -EMSGSIZE);
		return;
	}
	CHECK(len >= PP_V2_HEAD && len <= PP_MAX);
	if ((size_t)len > size || pp_v2_parse(data, (size_t)len, &a) != 0)
		return;
	CHECK(a.unique_id_len <= PP_UNIQUE_ID_MAX);
	if (a.local)
		return;
	n = pp_v2_build(out, sizeof(out), &a, a.unique_id, a.unique_id_len);
	CHECK(n > 0);
	CHECK(pp_v2_length(out) == (int)n);
	CHECK(pp_v2_parse(out, n, &b) == 0 && !b.local);
	same_addr(&a, &b);
	CHECK(b.unique_id_len == a.unique_id_len &&
			memcmp(b.unique_id, a.unique_id, a.unique_id_len) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pp_trust t;
	char list[600], err[128], out[PP_TRUST_MAX * 20];
	uint8_t *copy;

	/* A copy of exactly size bytes: ASan sees any read past the input. */
	copy = malloc(size > 0 ? size : 1);
	CHECK(copy != NULL);
	memcpy(copy, data, size);
	if (size >= 6) {
		int kind = pp_detect(copy);

		CHECK(kind >= 0 && kind <= 2);
		if (kind == 1) {
			const uint8_t *nl = memchr(copy, '\n', size < PP_V1_MAX ? size : PP_V1_MAX);

			if (nl != NULL)
				v1(copy, (size_t)(nl - copy) + 1);
		} else if (kind == 2) {
			v2(copy, size);
		}
	}
	v1(copy, size);
	v2(copy, size);
	if (size < sizeof(list)) {
		memcpy(list, data, size);
		list[size] = '\0';
		if (pp_trust_parse(list, &t, err, sizeof(err)) == 0) {
			CHECK(t.n <= PP_TRUST_MAX);
			pp_trust_format(&t, out, sizeof(out));
			CHECK(memchr(out, '\0', sizeof(out)) != NULL);
		} else {
			CHECK(err[0] != '\0');
		}
	}
	free(copy);
	return 0;
}
