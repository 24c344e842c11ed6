/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * args.h - numbers from the command line, strictly: the whole argument is
 * the number (no trailing junk, no sign where none is allowed), within its
 * range; anything else is refused with the program, the flag, the text and
 * the range, as the apps refuse a bad address (tcpstack/ipv4_addr.h).
 */
#ifndef RIPTIDE_APPS_ARGS_H
#define RIPTIDE_APPS_ARGS_H

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/** A whole number in [min, max]. @return 0, or -1 after saying why on stderr. */
static inline int
arg_u64(const char *prog, const char *flag, const char *s, uint64_t min, uint64_t max,
		uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = *s >= '0' && *s <= '9' ? strtoull(s, &end, 10) : 0;
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v < min || v > max) {
		fprintf(stderr, "%s: %s '%s': a whole number %llu..%llu\n", prog, flag, s,
				(unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = v;
	return 0;
}

/** arg_u64() into a uint32_t. */
static inline int
arg_u32(const char *prog, const char *flag, const char *s, uint32_t min, uint32_t max,
		uint32_t *out)
{
	uint64_t v;

	if (arg_u64(prog, flag, s, min, max, &v) != 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/** Seconds (a decimal number) in [min, max]. @return 0, or -1 after saying why. */
static inline int
arg_seconds(const char *prog, const char *flag, const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !isfinite(v) || v < min || v > max) {
		fprintf(stderr, "%s: %s '%s': seconds, %g..%g\n", prog, flag, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

#endif /* RIPTIDE_APPS_ARGS_H */
