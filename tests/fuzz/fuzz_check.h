/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_check.h - the harnesses' invariant check: a broken one prints what and
 * where, then aborts, which libFuzzer reports as a finding (the input is kept
 * in build-fuzz/artifacts/).
 */
#ifndef RIPTIDE_FUZZ_CHECK_H
#define RIPTIDE_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                        \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "invariant broken: %s (%s:%d)\n", #cond, __FILE__, \
					__LINE__);                                         \
			abort();                                                           \
		}                                                                          \
	} while (0)

#endif
