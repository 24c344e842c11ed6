/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_l4config.c - libFuzzer harness for l4proxy's INI config loader
 * (load_config): any bytes as the file. A file it refuses is fine (it says
 * why on stderr, silenced here); a file it accepts must give a usable
 * config: 1..MAX_LISTENERS listeners, each on a port with a pool of the
 * config, every pool with 1..LB_MAX_BACKENDS backends and names that are
 * strings. Nothing may leak (LeakSanitizer, per input).
 *
 * The loader is static in apps/l4proxy/l4proxy.c, so this file includes it
 * (its main renamed); when the host-layer issue splits l4proxy by concern,
 * this harness links the config file alone instead.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#define main l4proxy_main
#include "../../apps/l4proxy/l4proxy.c"
#undef main

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	saved = dup(2);
	dup2(quiet, 2);
	rc = load_config(path);
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
		}
	}
	for (i = 0; i < MAX_POOLS; i++)
		lb_fini(&cfg.pools[i].lb);
	return 0;
}
