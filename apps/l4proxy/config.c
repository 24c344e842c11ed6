/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * config.c - l4proxy's configuration: defaults, the INI file (rte_cfgfile,
 * after a lint pass for what rte_cfgfile would pass over in silence), and the
 * effective configuration printed back as INI (--check-config; ini.c reads
 * the text itself: the lint pass and the line of a key). A mistake is
 * never skipped: it is refused with file, line, section, key and reason.
 *
 * [global]        stats_interval, drain_timeout, max_pairs
 * [pool NAME]     algorithm, backend (repeat: ADDR:PORT[,weight=N]),
 *                 connect_timeout_ms, health_interval_ms (0: off),
 *                 health_timeout_ms, rise, fall, proxy_protocol (v1|v2|off),
 *                 backend_max_conns
 * [listener NAME] port, pool, max_conns, max_rate, idle_timeout_ms,
 *                 over_limit (reset|queue), queue_timeout_ms,
 *                 accept_proxy (on|off), trusted_sources (ADDR[/P], ...)
 *
 * No DPDK state is needed (rte_cfgfile is plain C): --check-config runs
 * before the EAL, and the fuzz harness links this file alone.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cfgfile.h>
#include <rte_common.h>

#include "ipv4_addr.h"
#include "l4proxy.h"

/* A pool's section: every backend and a key for each setting. */
#define CFG_MAX_KEYS (LB_MAX_BACKENDS + 32)

_Thread_local struct config cfg;

void
fmt_addr(char *out, size_t len, uint32_t ip, uint16_t port)
{
	snprintf(out, len, "%u.%u.%u.%u:%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255,
			port);
}

void
config_defaults(void)
{
	cfg.drain_timeout = 10;
	cfg.max_pairs = 16384;
	cfg.idle_spin_us = 0; /* sleep as soon as idle: see docs/l4proxy.md, Idle CPU */
	/* Adaptive interrupt moderation: naps of 100 us under load only (see
	 * docs/l4proxy.md, Idle CPU; docs/performance.md, twenty-fourth
	 * session). */
	cfg.rx_coalesce_us = 100;
	cfg.rx_coalesce_after = 16;
}

void
pool_defaults(struct pool *p, const char *name)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	/* Above the second SYN retransmission (1 s initial RTO, then 2 s more):
	 * a lost SYN or SYN-ACK costs a second, not the connection. A timeout
	 * equal to the initial RTO failed every connect whose first SYN was lost. */
	p->connect_timeout_ms = 3500;
	p->health_interval_ms = 1000;
	p->health_timeout_ms = 500;
	snprintf(p->http_check, sizeof(p->http_check), "GET /");
	p->http_status_lo = 200;
	p->http_status_hi = 399;
	p->agent_interval_ms = 1000;
	p->rise = 2;
	p->fall = 2;
}

void
listener_defaults(struct listener *l, const char *name)
{
	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->idle_timeout_ms = 300000;
	l->queue_timeout_ms = 2000;
}

int
parse_proxy_send(const char *s)
{
	return strcmp(s, "off") == 0 ? 0 : strcmp(s, "v1") == 0 ? 1 : strcmp(s, "v2") == 0 ? 2 : -1;
}

int
parse_over_limit(const char *s, enum over_limit *out)
{
	if (strcmp(s, "reset") == 0)
		*out = OVER_LIMIT_RESET;
	else if (strcmp(s, "queue") == 0)
		*out = OVER_LIMIT_QUEUE;
	else
		return -1;
	return 0;
}

struct pool *
pool_find_in(struct config *c, const char *name)
{
	uint32_t i;

	for (i = 0; i < c->npools; i++)
		if (!c->pools[i].retired && strcmp(c->pools[i].name, name) == 0)
			return &c->pools[i];
	return NULL;
}

struct pool *
pool_find(const char *name)
{
	return pool_find_in(&cfg, name);
}

int
add_backend(struct pool *pool, const char *spec, const char *where)
{
	char buf[96], *opt;
	uint32_t ip;
	uint16_t port;
	unsigned long weight = 1;

	snprintf(buf, sizeof(buf), "%s", spec);
	opt = strchr(buf, ',');
	if (opt != NULL) {
		char *end;

		*opt++ = '\0';
		if (strncmp(opt, "weight=", 7) != 0 || opt[7] < '0' || opt[7] > '9' ||
				(weight = strtoul(opt + 7, &end, 10)) < 1 || weight > 1000 ||
				*end != '\0') {
			fprintf(stderr, "l4proxy: %s: backend '%s': the option is weight=1..1000\n",
					where, spec);
			return -1;
		}
	}
	if (ipv4_parse_addr_port(buf, &ip, &port) != 0) {
		fprintf(stderr, "l4proxy: %s: backend '%s' is not ADDR:PORT\n", where, spec);
		return -1;
	}
	if (lb_add(&pool->lb, ip, port, (uint16_t)weight) < 0) {
		fprintf(stderr, "l4proxy: %s: more than %d backends in pool %s\n", where,
				LB_MAX_BACKENDS, pool->name);
		return -1;
	}
	return 0;
}

/* ---- numbers ---- */

/* A whole number in [min, max]: digits only (no sign, no junk, no wrap). */
static int
ini_number(const char *file, const char *sec, const char *key, const char *val, uint32_t min,
		uint32_t max, uint32_t *out)
{
	char *end, where[400];
	unsigned long long v = 0;

	errno = 0;
	if (*val >= '0' && *val <= '9')
		v = strtoull(val, &end, 10);
	if (*val < '0' || *val > '9' || *end != '\0' || errno != 0 || v < min || v > max) {
		ini_where(where, sizeof(where), file, sec, key, val);
		fprintf(stderr, "l4proxy: %s = '%s': want a whole number %u..%u%s\n", where, val,
				min, max,
				min > 0 && *val == '0' && val[1] == '\0'
						? " (0 is not a setting here)"
						: "");
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/* The numeric keys of a section: where each goes and its range. */
struct num_key {
	const char *key;
	size_t off; /* into struct pool or struct listener */
	uint8_t width; /* 1 or 4 bytes */
	uint32_t min, max;
};

#define NUM_KEY(type, field, lo, hi)                                                            \
	{                                                                                       \
#field, offsetof(struct type, field), sizeof(((struct type *)0)->field), lo, hi \
	}

/* connect and health timeouts of 0 would fail every connect and every check;
 * rise and fall of 0 would never change a backend's state. */
static const struct num_key pool_keys[] = {
	NUM_KEY(pool, connect_timeout_ms, 1, 600000),
	NUM_KEY(pool, health_interval_ms, 0, 3600000),
	NUM_KEY(pool, health_timeout_ms, 1, 600000),
	NUM_KEY(pool, rise, 1, 100),
	NUM_KEY(pool, fall, 1, 100),
	NUM_KEY(pool, backend_max_conns, 0, 10000000),
	NUM_KEY(pool, agent_port, 0, 65535),
	NUM_KEY(pool, agent_interval_ms, 1, 3600000),
	NUM_KEY(pool, slow_start_ms, 0, 3600000),
};

/* A queue timeout of 0 would reset every queued client at once. */
static const struct num_key listener_keys[] = {
	NUM_KEY(listener, max_conns, 0, 10000000),
	NUM_KEY(listener, max_rate, 0, 10000000),
	NUM_KEY(listener, idle_timeout_ms, 0, 86400000),
	NUM_KEY(listener, queue_timeout_ms, 1, 600000),
};

/* Set key k of obj if it is one of keys[]. @return 1 if set, 0 if not a
 * numeric key, -1 on a bad value. */
static int
set_num_key(const struct num_key *keys, size_t n, void *obj, const char *file, const char *sec,
		const char *k, const char *v)
{
	size_t i;
	uint32_t u = 0;

	for (i = 0; i < n; i++) {
		if (strcmp(keys[i].key, k) != 0)
			continue;
		if (ini_number(file, sec, k, v, keys[i].min, keys[i].max, &u) != 0)
			return -1;
		if (keys[i].width == 1)
			*((uint8_t *)obj + keys[i].off) = (uint8_t)u;
		else
			memcpy((uint8_t *)obj + keys[i].off, &u, sizeof(u));
		return 1;
	}
	return 0;
}

static void
unknown_key(const char *file, const char *sec, const char *k, const char *v, const char *known)
{
	char where[400];

	ini_where(where, sizeof(where), file, sec, k, v);
	fprintf(stderr, "l4proxy: %s: unknown key (known: %s)\n", where, known);
}

/* ---- sections ---- */

/* A pool's or listener's name: it must fit whole (a cut name could make two
 * pools one) and be one word (telemetry takes it as a parameter). */
static int
check_name(const char *file, const char *sec, const char *name)
{
	if (name[0] == '\0' || strlen(name) >= NAME_LEN || strcspn(name, " \t,") != strlen(name)) {
		fprintf(stderr,
				"l4proxy: %s: [%s]: a name of 1..%d characters without spaces or "
				"commas\n",
				file, sec, NAME_LEN - 1);
		return -1;
	}
	return 0;
}

int
config_set_log(const char *v, const char *where)
{
	if (strcmp(v, "off") == 0) {
		cfg.log[0] = '\0';
		return 0;
	}
	if (v[0] == '\0' || snprintf(cfg.log, sizeof(cfg.log), "%s", v) >= (int)sizeof(cfg.log)) {
		fprintf(stderr, "l4proxy: %s: log = '%.40s': a file of 1..%zu characters, syslog or off\n",
				where, v, sizeof(cfg.log) - 1);
		return -1;
	}
	return 0;
}

int
config_check_ports(const char *where)
{
	uint32_t i;

	for (i = 0; cfg.metrics_port != 0 && i < cfg.nlisteners; i++)
		if (cfg.ls[i].port == cfg.metrics_port) {
			fprintf(stderr, "l4proxy: %s: metrics_port = %u: [listener %s] has it\n",
					where, cfg.metrics_port, cfg.ls[i].name);
			return -1;
		}
	return 0;
}

/* cluster = ADDR, ADDR, ...: every instance's own address, at most
 * TCP_CLUSTER_MAX, none twice. */
static int
parse_cluster(const char *file, const char *sec, const char *k, const char *v)
{
	char buf[256], where[400], *save = NULL, *tok;
	uint32_t ip, i;

	ini_where(where, sizeof(where), file, sec, k, v);
	if (strlen(v) >= sizeof(buf)) {
		fprintf(stderr, "l4proxy: %s = '%s': too long\n", where, v);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", v);
	cfg.ncluster = 0;
	for (tok = strtok_r(buf, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
		if (ipv4_parse_addr(tok, &ip) != 0 || ip == 0 || (ip >> 28) >= 0xe) {
			fprintf(stderr, "l4proxy: %s = '%s': '%s' is not a unicast IPv4 address\n",
					where, v, tok);
			return -1;
		}
		for (i = 0; i < cfg.ncluster; i++)
			if (cfg.cluster[i] == ip) {
				fprintf(stderr, "l4proxy: %s = '%s': %s twice\n", where, v, tok);
				return -1;
			}
		if (cfg.ncluster == TCP_CLUSTER_MAX) {
			fprintf(stderr, "l4proxy: %s = '%s': more than %u instances\n", where, v,
					TCP_CLUSTER_MAX);
			return -1;
		}
		cfg.cluster[cfg.ncluster++] = ip;
	}
	if (cfg.ncluster < 2) {
		fprintf(stderr,
				"l4proxy: %s = '%s': a cluster lists every instance, this one "
				"included (2 or more)\n",
				where, v);
		return -1;
	}
	return 0;
}

static int
load_global(const char *file, const char *sec, const struct rte_cfgfile_entry *ent, int n)
{
	int e;

	for (e = 0; e < n; e++) {
		const char *k = ent[e].name, *v = ent[e].value;
		uint32_t u = 0;

		if (strcmp(k, "stats_interval") == 0 || strcmp(k, "drain_timeout") == 0) {
			if (ini_number(file, sec, k, v, 0, 86400, &u) != 0)
				return -1;
			*(k[0] == 's' ? &cfg.stats_interval : &cfg.drain_timeout) = u;
		} else if (strcmp(k, "max_pairs") == 0) {
			/* 0 pairs would refuse every client. */
			if (ini_number(file, sec, k, v, 1, 1000000, &cfg.max_pairs) != 0)
				return -1;
		} else if (strcmp(k, "metrics_port") == 0) {
			if (ini_number(file, sec, k, v, 0, 65535, &cfg.metrics_port) != 0)
				return -1;
		} else if (strcmp(k, "log_rate") == 0) {
			if (ini_number(file, sec, k, v, 0, 10000000, &cfg.log_rate) != 0)
				return -1;
		} else if (strcmp(k, "log") == 0) {
			if (config_set_log(v, file) != 0)
				return -1;
		} else if (strcmp(k, "withdraw_wait_ms") == 0) {
			if (ini_number(file, sec, k, v, 0, 600000, &cfg.withdraw_wait_ms) != 0)
				return -1;
		} else if (strcmp(k, "cluster") == 0) {
			if (parse_cluster(file, sec, k, v) != 0)
				return -1;
		} else {
			unknown_key(file, sec, k, v,
					"stats_interval, drain_timeout, max_pairs, metrics_port, log, "
					"log_rate, cluster, withdraw_wait_ms");
			return -1;
		}
	}
	return 0;
}

static int
load_pool(const char *file, const char *sec, const struct rte_cfgfile_entry *ent, int n)
{
	struct pool *p;
	int algo = LB_ALGO_ROUND_ROBIN, e, r;
	char where[400];

	if (check_name(file, sec, sec + 5) != 0)
		return -1;
	if (cfg.npools == MAX_POOLS || pool_find(sec + 5) != NULL) {
		fprintf(stderr, "l4proxy: %s: [%s]: too many pools, or a second pool of that name\n",
				file, sec);
		return -1;
	}
	for (e = 0; e < n; e++)
		if (strcmp(ent[e].name, "algorithm") == 0 &&
				(algo = lb_algo_parse(ent[e].value)) < 0) {
			ini_where(where, sizeof(where), file, sec, "algorithm", ent[e].value);
			fprintf(stderr,
					"l4proxy: %s = '%s': use roundrobin, weighted, leastconn or "
					"maglev\n",
					where, ent[e].value);
			return -1;
		}
	p = &cfg.pools[cfg.npools];
	pool_defaults(p, sec + 5);
	if (lb_init(&p->lb, (enum lb_algo)algo) != 0)
		return -1;
	cfg.npools++;
	for (e = 0; e < n; e++) {
		const char *k = ent[e].name, *v = ent[e].value;

		r = set_num_key(pool_keys, RTE_DIM(pool_keys), p, file, sec, k, v);
		if (r < 0)
			return -1;
		if (r > 0 || strcmp(k, "algorithm") == 0)
			continue;
		ini_where(where, sizeof(where), file, sec, k, v);
		if (strcmp(k, "backend") == 0) {
			if (add_backend(p, v, where) != 0)
				return -1;
		} else if (strcmp(k, "proxy_protocol") == 0) {
			int ps = parse_proxy_send(v);

			if (ps < 0) {
				fprintf(stderr, "l4proxy: %s = '%s': v1, v2 or off\n", where, v);
				return -1;
			}
			p->proxy_send = (uint8_t)ps;
		} else if (strcmp(k, "health_check") == 0) {
			if (strcmp(v, "tcp") != 0 && strcmp(v, "http") != 0) {
				fprintf(stderr, "l4proxy: %s = '%s': tcp or http\n", where, v);
				return -1;
			}
			p->check = strcmp(v, "http") == 0 ? HEALTH_CHECK_HTTP : HEALTH_CHECK_TCP;
		} else if (strcmp(k, "http_check") == 0 || strcmp(k, "http_check_status") == 0) {
			char err[96];

			if ((k[10] == '\0' ? parse_http_check(p, v, err, sizeof(err))
					   : parse_http_status(p, v, err, sizeof(err))) != 0) {
				fprintf(stderr, "l4proxy: %s = '%s': %s\n", where, v, err);
				return -1;
			}
		} else {
			unknown_key(file, sec, k, v,
					"algorithm, backend, connect_timeout_ms, health_interval_ms, "
					"health_timeout_ms, rise, fall, proxy_protocol, "
					"backend_max_conns, health_check, http_check, "
					"http_check_status, agent_port, agent_interval_ms, "
					"slow_start_ms");
			return -1;
		}
	}
	if (p->lb.n == 0) {
		fprintf(stderr, "l4proxy: %s: [%s]: no backend = ADDR:PORT\n", file, sec);
		return -1;
	}
	return 0;
}

static int
load_listener(const char *file, const char *sec, const struct rte_cfgfile_entry *ent, int n)
{
	struct listener *l;
	const char *pool = NULL;
	uint32_t port = 0;
	char where[400];
	int e, r;

	if (check_name(file, sec, sec + 9) != 0)
		return -1;
	if (cfg.nlisteners == MAX_LISTENERS) {
		fprintf(stderr, "l4proxy: %s: [%s]: more than %d listeners\n", file, sec,
				MAX_LISTENERS);
		return -1;
	}
	l = &cfg.ls[cfg.nlisteners];
	listener_defaults(l, sec + 9);
	for (e = 0; e < n; e++) {
		const char *k = ent[e].name, *v = ent[e].value;

		r = set_num_key(listener_keys, RTE_DIM(listener_keys), l, file, sec, k, v);
		if (r < 0)
			return -1;
		if (r > 0)
			continue;
		if (strcmp(k, "port") == 0) {
			if (ini_number(file, sec, k, v, 1, 65535, &port) != 0)
				return -1;
		} else if (strcmp(k, "pool") == 0) {
			pool = v;
		} else if (strcmp(k, "vip") == 0) {
			if (ipv4_parse_addr(v, &l->vip) != 0 || l->vip == 0 ||
					(l->vip >> 28) >= 0xe) {
				ini_where(where, sizeof(where), file, sec, k, v);
				fprintf(stderr, "l4proxy: %s = '%s': a unicast IPv4 address\n",
						where, v);
				return -1;
			}
		} else if (strcmp(k, "over_limit") == 0) {
			if (parse_over_limit(v, &l->over_limit) != 0) {
				ini_where(where, sizeof(where), file, sec, k, v);
				fprintf(stderr, "l4proxy: %s = '%s': reset or queue\n", where, v);
				return -1;
			}
		} else if (strcmp(k, "accept_proxy") == 0) {
			if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0) {
				ini_where(where, sizeof(where), file, sec, k, v);
				fprintf(stderr, "l4proxy: %s = '%s': on or off\n", where, v);
				return -1;
			}
			l->accept_proxy = strcmp(v, "on") == 0;
		} else if (strcmp(k, "trusted_sources") == 0) {
			char err[96];

			if (pp_trust_parse(v, &l->trusted, err, sizeof(err)) != 0) {
				ini_where(where, sizeof(where), file, sec, k, v);
				fprintf(stderr, "l4proxy: %s: %s\n", where, err);
				return -1;
			}
		} else {
			unknown_key(file, sec, k, v,
					"port, vip, pool, max_conns, max_rate, idle_timeout_ms, "
					"over_limit, queue_timeout_ms, accept_proxy, "
					"trusted_sources");
			return -1;
		}
	}
	if (port == 0 || pool == NULL) {
		fprintf(stderr, "l4proxy: %s: [%s]: needs port and pool\n", file, sec);
		return -1;
	}
	l->pool = pool_find(pool);
	if (l->pool == NULL) {
		ini_where(where, sizeof(where), file, sec, "pool", pool);
		fprintf(stderr, "l4proxy: %s = '%s': no [pool %s]\n", where, pool, pool);
		return -1;
	}
	for (e = 0; e < (int)cfg.nlisteners; e++)
		if (cfg.ls[e].port == port && cfg.ls[e].vip == l->vip) {
			fprintf(stderr, "l4proxy: %s: [%s] port = %u: [listener %s] has it already%s\n",
					file, sec, port, cfg.ls[e].name,
					l->vip != 0 ? " on that vip" : "");
			return -1;
		}
	l->port = (uint16_t)port;
	cfg.nlisteners++;
	return 0;
}

/* The section's entries (refused, never cut, if there are more than fit). */
static int
load_section(struct rte_cfgfile *cf, const char *file, const char *sec, int pass)
{
	struct rte_cfgfile_entry ent[CFG_MAX_KEYS];
	int n = rte_cfgfile_section_num_entries(cf, sec);
	bool is_global = strcmp(sec, "global") == 0;
	bool is_pool = strncmp(sec, "pool ", 5) == 0;
	bool is_listener = strncmp(sec, "listener ", 9) == 0;

	if (!is_global && !is_pool && !is_listener) {
		fprintf(stderr, "l4proxy: %s: [%s]: unknown section (global, pool NAME, listener NAME)\n",
				file, sec);
		return -1;
	}
	/* [global] first, then pools (listeners name them), then listeners. */
	if ((pass == 0 && !is_global) || (pass == 1 && !is_pool) || (pass == 2 && !is_listener))
		return 0;
	if (n > CFG_MAX_KEYS) {
		fprintf(stderr, "l4proxy: %s: [%s]: %d keys, at most %d\n", file, sec, n,
				CFG_MAX_KEYS);
		return -1;
	}
	n = rte_cfgfile_section_entries(cf, sec, ent, CFG_MAX_KEYS);
	if (is_global)
		return load_global(file, sec, ent, n);
	if (is_pool)
		return load_pool(file, sec, ent, n);
	return load_listener(file, sec, ent, n);
}

int
config_load(const char *file)
{
	char names[CFG_MAX_SECTIONS][CFG_NAME_LEN], *ptrs[CFG_MAX_SECTIONS];
	struct rte_cfgfile *cf;
	int nsec, s, pass, rc = -1;

	if (ini_lint(file) != 0)
		return -1;
	cf = rte_cfgfile_load(file, 0);
	if (cf == NULL) {
		fprintf(stderr, "l4proxy: %s: cannot read it (missing, or not INI)\n", file);
		return -1;
	}
	nsec = rte_cfgfile_num_sections(cf, NULL, 0);
	if (nsec > CFG_MAX_SECTIONS) {
		/* Refused, never cut: a section past the end would be lost. */
		fprintf(stderr,
				"l4proxy: %s: %d sections, at most %d ([global], %d pools, %d "
				"listeners)\n",
				file, nsec, CFG_MAX_SECTIONS, MAX_POOLS, MAX_LISTENERS);
		goto out;
	}
	for (s = 0; s < nsec; s++)
		ptrs[s] = names[s];
	rte_cfgfile_sections(cf, ptrs, nsec);
	for (pass = 0; pass < 3; pass++)
		for (s = 0; s < nsec; s++)
			if (load_section(cf, file, names[s], pass) != 0)
				goto out;
	if (cfg.nlisteners == 0) {
		fprintf(stderr, "l4proxy: %s: no [listener NAME] section\n", file);
		goto out;
	}
	rc = 0;
out:
	rte_cfgfile_close(cf);
	return rc;
}

void
config_finish(void)
{
	uint32_t i, k;

	for (i = 0; i < cfg.npools; i++)
		for (k = 0; k < cfg.pools[i].lb.n; k++) {
			cfg.pools[i].lb.be[k].max_conns = cfg.pools[i].backend_max_conns;
			backend_ctl_init(&cfg.pools[i], k);
		}
}

void
config_print(FILE *out)
{
	uint32_t i, k;
	char a[32];

	fprintf(out,
			"[global]\nstats_interval = %g\ndrain_timeout = %g\nmax_pairs = %u\n"
			"metrics_port = %u\nlog = %s\nlog_rate = %u\n",
			cfg.stats_interval, cfg.drain_timeout, cfg.max_pairs, cfg.metrics_port,
			cfg.log[0] != '\0' ? cfg.log : "off", cfg.log_rate);
	fprintf(out, "withdraw_wait_ms = %u\n", cfg.withdraw_wait_ms);
	for (i = 0; i < cfg.ncluster; i++)
		fprintf(out, "%s%s", i == 0 ? "cluster = " : ", ",
				ipv4_format(cfg.cluster[i], a, sizeof(a)));
	if (cfg.ncluster > 0)
		fprintf(out, "\n");
	for (i = 0; i < cfg.npools; i++) {
		const struct pool *p = &cfg.pools[i];

		fprintf(out, "\n[pool %s]\nalgorithm = %s\n", p->name, lb_algo_name(p->lb.algo));
		for (k = 0; k < p->lb.n; k++) {
			fmt_addr(a, sizeof(a), p->lb.be[k].ip, p->lb.be[k].port);
			fprintf(out, "backend = %s,weight=%u\n", a, p->lb.be[k].weight);
		}
		fprintf(out,
				"connect_timeout_ms = %u\nhealth_interval_ms = %u\n"
				"health_timeout_ms = %u\nrise = %u\nfall = %u\n"
				"proxy_protocol = %s\nbackend_max_conns = %u\n",
				p->connect_timeout_ms, p->health_interval_ms, p->health_timeout_ms,
				p->rise, p->fall,
				p->proxy_send == 1   ? "v1"
				: p->proxy_send == 2 ? "v2"
						     : "off",
				p->backend_max_conns);
		fprintf(out,
				"health_check = %s\nhttp_check = %s\nhttp_check_status = %u-%u\n"
				"agent_port = %u\nagent_interval_ms = %u\nslow_start_ms = %u\n",
				p->check == HEALTH_CHECK_HTTP ? "http" : "tcp", p->http_check,
				p->http_status_lo, p->http_status_hi, p->agent_port,
				p->agent_interval_ms, p->slow_start_ms);
	}
	for (i = 0; i < cfg.nlisteners; i++) {
		const struct listener *l = &cfg.ls[i];

		char trusted[PP_TRUST_MAX * 20];

		pp_trust_format(&l->trusted, trusted, sizeof(trusted));
		fprintf(out,
				"\n[listener %s]\nport = %u\npool = %s\nmax_conns = %u\n"
				"max_rate = %u\nidle_timeout_ms = %u\nover_limit = %s\n"
				"queue_timeout_ms = %u\naccept_proxy = %s\n",
				l->name, l->port, l->pool->name, l->max_conns, l->max_rate,
				l->idle_timeout_ms,
				l->over_limit == OVER_LIMIT_QUEUE ? "queue" : "reset",
				l->queue_timeout_ms, l->accept_proxy ? "on" : "off");
		if (l->trusted.n > 0)
			fprintf(out, "trusted_sources = %s\n", trusted);
		if (l->vip != 0)
			fprintf(out, "vip = %s\n", ipv4_format(l->vip, a, sizeof(a)));
	}
}

void
config_free(void)
{
	uint32_t i;

	for (i = 0; i < MAX_POOLS; i++)
		lb_fini(&cfg.pools[i].lb);
}

/* ---- health checks' settings, and a backend's control state ---- */

void
backend_ctl_init(struct pool *pool, uint32_t k)
{
	struct backend_ctl *c = &pool->ctl[k];

	memset(c, 0, sizeof(*c));
	c->weight = pool->lb.be[k].weight;
	c->health_up = pool->lb.be[k].up;
	c->admin_drain = pool->lb.be[k].draining;
	c->agent_pct = 100;
}

int
parse_http_check(struct pool *pool, const char *v, char *err, size_t len)
{
	const char *sp = strchr(v, ' ');
	size_t m = sp != NULL ? (size_t)(sp - v) : 0, i;

	if (sp == NULL || m == 0 || m > 15 || sp[1] != '/' ||
			strlen(v) >= sizeof(pool->http_check) ||
			strpbrk(sp + 1, " \t\r\n") != NULL) {
		snprintf(err, len, "want METHOD /PATH (one space, no spaces in the path)");
		return -1;
	}
	for (i = 0; i < m; i++)
		if (!isupper((unsigned char)v[i])) {
			snprintf(err, len, "the method is upper-case letters (GET, HEAD, ...)");
			return -1;
		}
	snprintf(pool->http_check, sizeof(pool->http_check), "%s", v);
	return 0;
}

int
parse_http_status(struct pool *pool, const char *v, char *err, size_t len)
{
	unsigned int lo, hi;
	char tail;
	int n = sscanf(v, "%3u-%3u%c", &lo, &hi, &tail);

	if (n == 1 && strspn(v, "0123456789") == strlen(v))
		hi = lo;
	else if (n != 2 || strspn(v, "0123456789-") != strlen(v))
		lo = 0;
	if (lo < 100 || hi > 599 || lo > hi) {
		snprintf(err, len, "want a status (200) or a range (200-399), 100..599");
		return -1;
	}
	pool->http_status_lo = lo;
	pool->http_status_hi = hi;
	return 0;
}
