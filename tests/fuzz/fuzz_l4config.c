/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_l4config.c - libFuzzer harness for l4proxy's INI config loader
 * (config_load, apps/l4proxy/config.c, linked alone): any bytes as the file. A file it refuses is
 * fine (it says why on stderr, silenced here); a file it accepts must give a usable
 * config: 1..MAX_LISTENERS listeners, each on a port with a pool of the
 * config, every pool with 1..LB_MAX_BACKENDS backends and names that are
 * strings. Nothing may leak (LeakSanitizer, per input).
 * An accepted file printed back (--check-config's printout) must load
 * again to the same printout.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "l4proxy.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The printout of what loaded loads again, to the same printout. */
static void
print_round_trips(void)
{
	static char first[1 << 16], second[1 << 16];
	FILE *f;
	size_t n1, n2;
	int fd2;
	char path2[64];

	f = fmemopen(first, sizeof(first), "w");
	CHECK(f != NULL);
	config_print(f);
	n1 = (size_t)ftell(f);
	fclose(f);
	config_free();
	memset(&cfg, 0, sizeof(cfg));
	config_defaults();
	fd2 = memfd_create("l4config2", 0);
	CHECK(fd2 >= 0 && write(fd2, first, n1) == (ssize_t)n1);
	snprintf(path2, sizeof(path2), "/proc/self/fd/%d", fd2);
	CHECK(config_load(path2) == 0);
	f = fmemopen(second, sizeof(second), "w");
	CHECK(f != NULL);
	config_print(f);
	n2 = (size_t)ftell(f);
	fclose(f);
	close(fd2);
	CHECK(n1 == n2 && memcmp(first, second, n1) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1, quiet = -1;
	static char path[64];
	uint32_t i;
	int saved, rc;

	if (fd < 0) {
		fd = memfd_create("l4config", 0);
		quiet = open("/dev/null", O_WRONLY);
		CHECK(fd >= 0 && quiet >= 0);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	CHECK(ftruncate(fd, 0) == 0);
	CHECK(pwrite(fd, data, size, 0) == (ssize_t)size);
	memset(&cfg, 0, sizeof(cfg));
	config_defaults();
	saved = dup(2);
	dup2(quiet, 2);
	rc = config_load(path);
	dup2(saved, 2);
	close(saved);
	if (rc == 0) {
		CHECK(cfg.nlisteners >= 1 && cfg.nlisteners <= MAX_LISTENERS);
		CHECK(cfg.npools >= 1 && cfg.npools <= MAX_POOLS);
		for (i = 0; i < cfg.nlisteners; i++) {
			const struct listener *l = &cfg.ls[i];

			CHECK(l->port != 0);
			CHECK(l->pool >= cfg.pools && l->pool < cfg.pools + cfg.npools);
			CHECK(memchr(l->name, '\0', sizeof(l->name)) != NULL);
		}
		for (i = 0; i < cfg.npools; i++) {
			const struct pool *p = &cfg.pools[i];

			CHECK(p->lb.n >= 1 && p->lb.n <= LB_MAX_BACKENDS);
			CHECK(memchr(p->name, '\0', sizeof(p->name)) != NULL);
			CHECK(p->rise >= 1 && p->fall >= 1);
			CHECK(p->connect_timeout_ms >= 1 && p->health_timeout_ms >= 1);
		}
		print_round_trips();
	}
	config_free();
	return 0;
}
