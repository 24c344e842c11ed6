/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ex_slab.c - future slots owned by tasks (see ex_slab.h).
 *
 * One block of n slots and a stack of free slot indices, touched only by the
 * owning executor's thread: no atomics. A slot is FREE, HELD (taken by the
 * app, not yet spawned) or TASK (a live task's); the executor's task_finish()
 * finds the slab of a finished slab task by address among its few slabs and
 * puts the slot back.
 */
#include "ex_slab.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "ex_priv.h"

enum slot_state {
	SLOT_FREE = 0,
	SLOT_HELD,
	SLOT_TASK,
};

struct ex_slab {
	struct ex_executor *ex; /* NULL once the executor was freed */
	uint8_t *base;
	size_t slot_size;
	uint32_t n;
	uint32_t nfree;
	uint32_t *free; /* [nfree] free slot indices, a stack */
	uint8_t *state; /* [n] enum slot_state */
	char name[32];
};

struct ex_slab *
ex_slab_create(struct ex_executor *ex, const char *name, size_t slot_size, uint32_t n)
{
	struct ex_slab *s;
	uint32_t i;

	if (ex == NULL || slot_size == 0 || n == 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	if (ex->n_slabs == EX_SLABS_MAX) {
		rte_errno = ENOSPC;
		return NULL;
	}
	s = rte_zmalloc("ex_slab", sizeof(*s), RTE_CACHE_LINE_SIZE);
	if (s == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	s->slot_size = RTE_ALIGN_CEIL(slot_size, RTE_CACHE_LINE_SIZE);
	s->base = rte_malloc("ex_slab_slots", s->slot_size * n, RTE_CACHE_LINE_SIZE);
	s->free = rte_malloc("ex_slab_free", sizeof(*s->free) * n, 0);
	s->state = rte_zmalloc("ex_slab_state", n, 0);
	if (s->base == NULL || s->free == NULL || s->state == NULL) {
		rte_free(s->base);
		rte_free(s->free);
		rte_free(s->state);
		rte_free(s);
		rte_errno = ENOMEM;
		return NULL;
	}
	s->ex = ex;
	s->n = n;
	/* Lowest index on top: slots are handed out from the front. */
	for (i = 0; i < n; i++)
		s->free[i] = n - 1 - i;
	s->nfree = n;
	snprintf(s->name, sizeof(s->name), "%s", name != NULL ? name : "slab");
	ex->slabs[ex->n_slabs++] = s;
	return s;
}

/* The index of the slot that holds p, or n when p is in none. */
static uint32_t
slot_of(const struct ex_slab *s, const void *p)
{
	const uint8_t *b = p;

	if (b < s->base || b >= s->base + s->slot_size * s->n)
		return s->n;
	return (uint32_t)((size_t)(b - s->base) / s->slot_size);
}

void *
ex_slab_get(struct ex_slab *s)
{
	uint32_t i;
	void *slot;

	if (s->nfree == 0)
		return NULL;
	i = s->free[--s->nfree];
	s->state[i] = SLOT_HELD;
	slot = s->base + s->slot_size * i;
	memset(slot, 0, s->slot_size);
	return slot;
}

static void
slot_put(struct ex_slab *s, uint32_t i)
{
	s->state[i] = SLOT_FREE;
	s->free[s->nfree++] = i;
}

void
ex_slab_put(struct ex_slab *s, void *slot)
{
	uint32_t i = slot_of(s, slot);

	/* A slot not held by the app (free already, or a task's) stays as it is. */
	RTE_VERIFY(i < s->n && s->state[i] == SLOT_HELD);
	slot_put(s, i);
}

int
ex_spawn_slab(struct ex_slab *s, struct ex_future *f, struct ex_join_handle *jh,
		struct ex_task_ref *ref)
{
	struct ex_executor *cur = ex_current();
	uint32_t i;
	int rc;

	if (s == NULL || f == NULL)
		return -EINVAL;
	if (s->ex == NULL)
		return -ENODEV;
	/* The slab's executor's own thread: running it, or its lcore's before
	 * its loop first ran. */
	if (cur != s->ex && (cur != NULL || rte_lcore_id() != ex_executor_lcore(s->ex)))
		return -EXDEV;
	i = slot_of(s, f);
	if (i == s->n || s->state[i] != SLOT_HELD)
		return -EINVAL;
	rc = ex_spawn_local(s->ex, f, jh, ref, EX_TASK_STATE_SLAB);
	if (rc == 0)
		s->state[i] = SLOT_TASK;
	return rc;
}

void
ex_slab_task_done(struct ex_executor *ex, struct ex_future *f)
{
	uint32_t k, i;

	for (k = 0; k < ex->n_slabs; k++) {
		struct ex_slab *s = ex->slabs[k];

		i = slot_of(s, f);
		if (i < s->n) {
			RTE_VERIFY(s->state[i] == SLOT_TASK);
			slot_put(s, i);
			return;
		}
	}
	RTE_VERIFY(0 && "a slab task's future is in no slab of its executor");
}

void
ex_slab_orphan_all(struct ex_executor *ex)
{
	uint32_t k;

	for (k = 0; k < ex->n_slabs; k++)
		ex->slabs[k]->ex = NULL;
	ex->n_slabs = 0;
}

uint32_t
ex_slab_in_use(const struct ex_slab *s)
{
	return s->n - s->nfree;
}

uint32_t
ex_slab_size(const struct ex_slab *s)
{
	return s->n;
}

int
ex_slab_free(struct ex_slab *s)
{
	uint32_t i, held = 0;

	if (s == NULL)
		return 0;
	for (i = 0; i < s->n; i++) {
		if (s->state[i] == SLOT_TASK)
			return -EBUSY;
		held += s->state[i] == SLOT_HELD;
	}
	if (s->ex != NULL) {
		struct ex_executor *ex = s->ex;

		for (i = 0; i < ex->n_slabs; i++)
			if (ex->slabs[i] == s) {
				ex->slabs[i] = ex->slabs[--ex->n_slabs];
				break;
			}
	}
	rte_free(s->base);
	rte_free(s->free);
	rte_free(s->state);
	rte_free(s);
	return (int)held;
}
