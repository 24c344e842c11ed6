/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lb.c - backend choice for l4proxy. Maglev after NSDI'16 section 3.4:
 * backend i has offset = h1(i) mod M and skip = h2(i) mod (M-1) + 1; its
 * preference list is offset, offset+skip, ... mod M; the table is filled
 * round by round, each backend taking its next preferred free slot.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lb.h"

static const char *const names[] = { "roundrobin", "weighted", "leastconn", "maglev" };

int
lb_algo_parse(const char *name)
{
	unsigned i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
lb_algo_name(enum lb_algo a)
{
	return (unsigned)a < sizeof(names) / sizeof(names[0]) ? names[a] : "?";
}

int
lb_init(struct lb *lb, enum lb_algo algo)
{
	memset(lb, 0, sizeof(*lb));
	lb->algo = algo;
	if (algo == LB_ALGO_MAGLEV) {
		lb->table = calloc(LB_MAGLEV_SIZE, sizeof(*lb->table));
		if (lb->table == NULL)
			return -ENOMEM;
		lb->table_dirty = true;
	}
	return 0;
}

void
lb_fini(struct lb *lb)
{
	free(lb->table);
	lb->table = NULL;
}

int
lb_add(struct lb *lb, uint32_t ip, uint16_t port, uint16_t weight)
{
	struct lb_backend *b;

	if (lb->n == LB_MAX_BACKENDS)
		return -ENOSPC;
	b = &lb->be[lb->n];
	memset(b, 0, sizeof(*b));
	b->ip = ip;
	b->port = port;
	b->weight = weight == 0 ? 1 : weight;
	b->up = true;
	lb->table_dirty = true;
	return (int)lb->n++;
}

bool
lb_in_table(const struct lb_backend *b)
{
	return b->up && !b->draining && !b->removed;
}

bool
lb_usable(const struct lb_backend *b)
{
	return lb_in_table(b) && (b->max_conns == 0 || b->active < b->max_conns);
}

void
lb_changed(struct lb *lb)
{
	lb->table_dirty = true;
}

static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64_C(0xc4ceb9fe1a85ec53);
	x ^= x >> 33;
	return x;
}

static uint64_t
backend_key(const struct lb_backend *b)
{
	return (uint64_t)b->ip << 16 | b->port;
}

/* Fill the table from the backends in it (lb_in_table). Each round every
 * backend takes its next preferred free entries, as many as its weight, so
 * shares follow the weights (the paper's weighted variant). The rounds go
 * through the backends in the order of their addresses, not of their slots:
 * the table then depends only on the set of backends and their weights, so
 * every proxy given the same backends builds the same table, whatever order
 * they were configured or added in. */
static void
maglev_build(struct lb *lb)
{
	uint32_t next[LB_MAX_BACKENDS], offset[LB_MAX_BACKENDS], skip[LB_MAX_BACKENDS];
	uint32_t order[LB_MAX_BACKENDS];
	uint32_t i, j, filled = 0, live = 0;

	for (i = 0; i < LB_MAGLEV_SIZE; i++)
		lb->table[i] = UINT16_MAX;
	for (i = 0; i < lb->n; i++) {
		/* The permutation depends on the backend's address, not on its
		 * position, so it survives other backends coming and going. */
		uint64_t key = backend_key(&lb->be[i]);

		offset[i] = (uint32_t)(mix64(key) % LB_MAGLEV_SIZE);
		skip[i] = (uint32_t)(mix64(key ^ UINT64_C(0x9e3779b97f4a7c15)) %
					  (LB_MAGLEV_SIZE - 1)) +
			  1;
		next[i] = 0;
		if (lb_in_table(&lb->be[i]))
			live++;
		/* Insertion into address order (at most 64). */
		for (j = i; j > 0 && backend_key(&lb->be[order[j - 1]]) > key; j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	lb->table_dirty = false;
	if (live == 0)
		return;
	while (filled < LB_MAGLEV_SIZE) {
		for (j = 0; j < lb->n && filled < LB_MAGLEV_SIZE; j++) {
			uint32_t c, w;

			i = order[j];
			if (!lb_in_table(&lb->be[i]))
				continue;
			for (w = 0; w < lb->be[i].weight && filled < LB_MAGLEV_SIZE; w++) {
				do {
					c = (uint32_t)((offset[i] + (uint64_t)next[i] * skip[i]) %
							LB_MAGLEV_SIZE);
					next[i]++;
				} while (lb->table[c] != UINT16_MAX);
				lb->table[c] = (uint16_t)i;
				filled++;
			}
		}
	}
}

int
lb_pick(struct lb *lb, uint32_t client_ip, uint64_t tried)
{
	uint32_t i, n = lb->n;
	int best = -1;

	switch (lb->algo) {
	case LB_ALGO_ROUND_ROBIN:
		for (i = 0; i < n; i++) {
			uint32_t k = (lb->rr_next + i) % n;

			if (lb_usable(&lb->be[k]) && !(tried >> k & 1)) {
				lb->rr_next = (k + 1) % n;
				return (int)k;
			}
		}
		return -1;
	case LB_ALGO_WEIGHTED: {
		/* Smooth weighted round robin (as nginx): every usable backend
		 * gains its weight, the richest is chosen and pays the total. */
		int32_t total = 0;

		for (i = 0; i < n; i++) {
			struct lb_backend *b = &lb->be[i];

			if (!lb_usable(b) || (tried >> i & 1))
				continue;
			b->current += b->weight;
			total += b->weight;
			if (best < 0 || b->current > lb->be[best].current)
				best = (int)i;
		}
		if (best >= 0)
			lb->be[best].current -= total;
		return best;
	}
	case LB_ALGO_LEAST_CONN:
		/* Fewest connections per unit of weight; ties go round robin. */
		for (i = 0; i < n; i++) {
			uint32_t k = (lb->rr_next + i) % n;
			struct lb_backend *b = &lb->be[k];

			if (!lb_usable(b) || (tried >> k & 1))
				continue;
			if (best < 0 || (uint64_t)b->active * lb->be[best].weight <
							(uint64_t)lb->be[best].active * b->weight)
				best = (int)k;
		}
		if (best >= 0)
			lb->rr_next = ((uint32_t)best + 1) % n;
		return best;
	case LB_ALGO_MAGLEV: {
		uint32_t slot;

		if (lb->table_dirty)
			maglev_build(lb);
		slot = (uint32_t)(mix64(client_ip) % LB_MAGLEV_SIZE);
		/* The client's own slot first; if that backend is full or was
		 * tried, walk on (a fallback, not a move of the mapping). */
		for (i = 0; i < LB_MAGLEV_SIZE; i++) {
			uint16_t k = lb->table[(slot + i) % LB_MAGLEV_SIZE];

			if (k == UINT16_MAX)
				return -1;
			if (lb_usable(&lb->be[k]) && !(tried >> k & 1))
				return k;
			if (i > 4 * LB_MAX_BACKENDS)
				break;
		}
		return -1;
	}
	}
	return -1;
}

uint64_t
lb_table_digest(struct lb *lb)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a, 64 bits */
	uint32_t i;

	if (lb->algo != LB_ALGO_MAGLEV || lb->table == NULL)
		return 0;
	if (lb->table_dirty)
		maglev_build(lb);
	for (i = 0; i < LB_MAGLEV_SIZE; i++) {
		/* Each entry as its backend's address: slots differ between proxies. */
		uint64_t v = lb->table[i] == UINT16_MAX ? 0 : backend_key(&lb->be[lb->table[i]]);
		unsigned int b;

		for (b = 0; b < 6; b++) {
			h ^= (v >> (8 * b)) & 0xff;
			h *= UINT64_C(0x100000001b3);
		}
	}
	return h;
}
