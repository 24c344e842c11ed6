/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lb.h - l4proxy's backend choice: round robin, smooth weighted round
 * robin, least connections (weighted), and Maglev consistent hashing on the
 * client address (Eisenbud et al., NSDI'16: a lookup table of prime size
 * filled from per-backend permutations, so that a backend leaving or joining
 * moves only the clients that must move; a backend of weight w takes w
 * entries per round of the fill). Backends that are down, draining, removed
 * or full are skipped. Pure data structures: one lcore, no allocation after
 * lb_init().
 */
#ifndef RIPTIDE_LB_H
#define RIPTIDE_LB_H

#include <stdbool.h>
#include <stdint.h>

#define LB_MAX_BACKENDS 64
#define LB_MAGLEV_SIZE 65537 /* prime, > 100 x LB_MAX_BACKENDS (the paper's M >> N) */

enum lb_algo {
	LB_ALGO_ROUND_ROBIN = 0,
	LB_ALGO_WEIGHTED,
	LB_ALGO_LEAST_CONN,
	LB_ALGO_MAGLEV,
};

/** Name ("roundrobin", ...) to algorithm; -1 if unknown. */
int lb_algo_parse(const char *name);
const char *lb_algo_name(enum lb_algo a);

/** What the balancer needs to know of one backend. */
struct lb_backend {
	uint32_t ip; /**< host order */
	uint16_t port;
	uint16_t weight; /**< >= 1 */
	bool up; /**< health */
	bool draining; /**< no new connections */
	bool removed; /**< taken out at run time: never picked, its slot reusable */
	uint32_t active; /**< connections now */
	uint32_t max_conns; /**< 0: no limit */
	int32_t current; /**< smooth WRR state */
};

struct lb {
	enum lb_algo algo;
	uint32_t n;
	struct lb_backend be[LB_MAX_BACKENDS];
	uint32_t rr_next;
	/* Maglev: table entries are backend indexes; built from the usable set. */
	uint16_t *table;
	bool table_dirty;
};

/** @return 0, or -ENOMEM (the Maglev table). */
int lb_init(struct lb *lb, enum lb_algo algo);
void lb_fini(struct lb *lb);

/** Add a backend; @return its index, or -ENOSPC. */
int lb_add(struct lb *lb, uint32_t ip, uint16_t port, uint16_t weight);

/** True if the backend may take a new connection now. */
bool lb_usable(const struct lb_backend *b);

/** True if the backend has a share of the Maglev table (up, not draining,
 * not removed; a full one keeps its share and is skipped at pick time). */
bool lb_in_table(const struct lb_backend *b);

/**
 * Choose a backend for a client, skipping the indexes set in the bitmask
 * `tried` (a retry after a failed connect). @return an index, or -1 if no
 * backend is usable.
 */
int lb_pick(struct lb *lb, uint32_t client_ip, uint64_t tried);

/** Tell the balancer the usable set changed (health, drain): Maglev rebuilds. */
void lb_changed(struct lb *lb);

/**
 * A digest of the Maglev table (rebuilt first if it must be): FNV-1a over
 * its entries, each as its backend's address and port. Two proxies with the
 * same backends (address, port, weight, in the table or not) have the same
 * digest, whatever order they were given in. 0 if the pool is not Maglev.
 */
uint64_t lb_table_digest(struct lb *lb);

#endif
