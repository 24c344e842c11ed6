/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_impair.c - libFuzzer harness for the impairment spec parser
 * (dp_impair_parse, pktbench --impair and echo --impair): any string is
 * parsed; a refusal must come with a message, an acceptance with values in
 * range (probabilities in parts per million at most 1e6, a queue limit), and
 * a spec that parsed must parse again from the same text identically.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp_impair.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char spec[512], err[128], out[512];
	struct dp_impair_config a, b;

	if (size >= sizeof(spec))
		size = sizeof(spec) - 1;
	memcpy(spec, data, size);
	spec[size] = '\0';
	memset(err, 'x', sizeof(err));
	if (dp_impair_parse(spec, &a, err, sizeof(err)) != 0) {
		CHECK(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');
		return 0;
	}
	CHECK(a.loss_ppm <= DP_IMPAIR_PPM && a.dup_ppm <= DP_IMPAIR_PPM);
	CHECK(a.reorder_ppm <= DP_IMPAIR_PPM && a.corrupt_ppm <= DP_IMPAIR_PPM);
	CHECK(a.limit > 0);
	CHECK(dp_impair_parse(spec, &b, err, sizeof(err)) == 0);
	if (strstr(spec, "seed=random") == NULL) /* a random seed differs by design */
		CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	dp_impair_format(&a, out, sizeof(out));
	CHECK(memchr(out, '\0', sizeof(out)) != NULL);
	dp_impair_format(&a, out, 8); /* a short buffer is cut, not overrun */
	CHECK(strlen(out) < 8);
	return 0;
}
