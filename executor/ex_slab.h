/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ex_slab.h - tasks that own their futures: a pool of fixed-size future slots
 * of one executor, sized once, from which a task takes its future's memory
 * and to which the executor returns it when the task completes, is
 * cancelled, or is dropped at shutdown (Tokio's tasks own their futures;
 * Seastar allocates only when it must: this is both).
 *
 *   struct ex_slab *sessions = EX_SLAB_CREATE(ex, "sessions", struct session, 1024);
 *   ...
 *   struct session *s = ex_slab_get(sessions);   NULL: all 1024 are in use
 *   if (s == NULL) { refuse; }
 *   session_init(s, conn);
 *   ex_spawn_slab(sessions, &s->base, NULL, NULL);
 *
 * The app never frees a slot it spawned: no free list of its own, no join
 * handle per slot to reap, and no freeing of a task's memory from inside its
 * own poll (the executor puts the slot back after the poll returned READY,
 * or after the drop of a cancelled task).
 *
 * Lcore: a slab belongs to the executor it was made for; get, put and spawn
 * on that executor's thread (or, before its loop first runs, on the thread
 * of its lcore: main setting up).
 */
#ifndef RIPTIDE_EX_SLAB_H
#define RIPTIDE_EX_SLAB_H

#include <stddef.h>
#include <stdint.h>

#include "ex_executor.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ex_slab;

/** An executor has at most this many slabs. */
#define EX_SLABS_MAX 8

/**
 * Make a slab of n slots of slot_size bytes each (rounded up to a cache
 * line) for ex.
 * @return the slab, or NULL with rte_errno: EINVAL (n or slot_size 0, no
 *         executor), ENOSPC (ex has EX_SLABS_MAX slabs), ENOMEM.
 */
struct ex_slab *ex_slab_create(
		struct ex_executor *ex, const char *name, size_t slot_size, uint32_t n);

/** ex_slab_create() for slots of a type. */
#define EX_SLAB_CREATE(ex, name, type, n) ex_slab_create((ex), (name), sizeof(type), (n))

/** A zeroed free slot, or NULL when every slot is in use. */
void *ex_slab_get(struct ex_slab *s);

/** Give back a slot taken with ex_slab_get() and never spawned. */
void ex_slab_put(struct ex_slab *s, void *slot);

/**
 * Spawn f, which lies in a slot of s taken with ex_slab_get(), on the slab's
 * executor. From here the slot is the task's: the executor puts it back when
 * the task is finished (its result published to jh first, if any).
 * @return 0; -EINVAL (f not in a slot of s, or its slot not taken, or
 *         already spawned), -EXDEV (called from another lcore's thread),
 *         -ENODEV (the slab's executor was freed), -ENOMEM (the executor's
 *         task pool is full). On error the slot is still the caller's.
 */
int ex_spawn_slab(struct ex_slab *s, struct ex_future *f, struct ex_join_handle *jh,
		struct ex_task_ref *ref);

/** Slots taken (held by the app, or by a live task). */
uint32_t ex_slab_in_use(const struct ex_slab *s);

/** The number of slots. */
uint32_t ex_slab_size(const struct ex_slab *s);

/**
 * Free the slab. Shut its executor down first (ex_executor_shutdown), so that
 * no task still runs on a slot.
 * @return 0; the number of slots taken with ex_slab_get() and never spawned
 *         nor put back (a leak in the app; freed all the same); or -EBUSY
 *         (a live task still owns a slot: nothing freed).
 */
int ex_slab_free(struct ex_slab *s);

#ifdef __cplusplus
}
#endif

#endif /* RIPTIDE_EX_SLAB_H */
