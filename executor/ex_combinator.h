/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ex_combinator.h - futures built from futures: ready, map, then (and_then),
 * join of 2 and of N, try_join, select, timeout, yield_now.
 *
 * C has no generics, so a combinator holds pointers to its children and the
 * children are embedded beside it in the parent's struct (as Rust embeds
 * them in the generated state machine). Nothing here allocates. A combinator
 * polls a child only until that child is done, and dropping a combinator
 * drops every child that has not finished: select drops the losers,
 * try_join the survivors of an error, timeout the inner future on expiry.
 *
 * Output: each combinator's base.result follows the future convention
 * (>= 0 success, -errno failure); typed outputs stay in the children.
 *
 * Lcore: polled and dropped by the lcore running the task, like any future.
 */
#ifndef RIPTIDE_EX_COMBINATOR_H
#define RIPTIDE_EX_COMBINATOR_H

#include <stdint.h>

#include "ex_future.h"
#include "ex_timer.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A future that is ready at its first poll with a given result. */
struct ex_ready {
	struct ex_future base;
};
void ex_ready_init(struct ex_ready *r, int32_t result);

/**
 * map: when inner is ready, fn(inner, arg) computes this future's result
 * (and may write a typed output wherever arg points).
 */
typedef int32_t ex_map_fn(struct ex_future *inner, void *arg);
struct ex_map {
	struct ex_future base;
	struct ex_future *inner;
	ex_map_fn *fn;
	void *arg;
};
void ex_map_init(struct ex_map *m, struct ex_future *inner, ex_map_fn *fn, void *arg);

/**
 * then (Rust's and_then): when first is ready with a result >= 0,
 * fn(first, second, arg) prepares second (typically: initialise it with
 * first's output) and second is awaited; this future's result is second's.
 * A first result < 0, or fn returning < 0, ends it with that error and
 * second is never polled.
 */
typedef int32_t ex_then_fn(struct ex_future *first, struct ex_future *second, void *arg);
enum ex_then_state {
	EX_THEN_STATE_FIRST = 0,
	EX_THEN_STATE_SECOND,
};
struct ex_then {
	struct ex_future base;
	struct ex_future *first;
	struct ex_future *second;
	ex_then_fn *fn;
	void *arg;
	enum ex_then_state state;
};
void ex_then_init(struct ex_then *t, struct ex_future *first, struct ex_future *second,
		ex_then_fn *fn, void *arg);

/** join of N: ready when every child is ready; result 0. */
struct ex_join_all {
	struct ex_future base;
	struct ex_future **futs;
	uint32_t n;
	uint32_t remaining;
};
void ex_join_all_init(struct ex_join_all *j, struct ex_future **futs, uint32_t n);

/** join of 2: the common case, without an array. */
struct ex_join2 {
	struct ex_future base;
	struct ex_future *a;
	struct ex_future *b;
};
void ex_join2_init(struct ex_join2 *j, struct ex_future *a, struct ex_future *b);

/**
 * try_join of N: ready when every child succeeded (result 0), or at the
 * first child that finished with a result < 0: the others are dropped and
 * that error is the result; failed is the index of the failing child.
 */
struct ex_try_join {
	struct ex_future base;
	struct ex_future **futs;
	uint32_t n;
	uint32_t remaining;
	int32_t failed; /**< index of the child that failed, or -1 */
};
void ex_try_join_init(struct ex_try_join *j, struct ex_future **futs, uint32_t n);

/**
 * select of N: ready when the first child is ready (children are polled in
 * order, so the lower index wins a tie); the others are dropped. result is
 * the winner's result, winner its index.
 */
struct ex_select {
	struct ex_future base;
	struct ex_future **futs;
	uint32_t n;
	int32_t winner;
};
void ex_select_init(struct ex_select *s, struct ex_future **futs, uint32_t n);

/**
 * timeout: inner's result if it finishes within duration_ns of the first
 * poll; otherwise inner is dropped and the result is -ETIMEDOUT.
 */
struct ex_timeout {
	struct ex_future base;
	struct ex_future *inner;
	struct ex_sleep sleep;
};
void ex_timeout_init(struct ex_timeout *t, struct ex_future *inner, uint64_t duration_ns);

/** As ex_timeout_init, against an absolute deadline on the executor's clock. */
void ex_timeout_until_init(struct ex_timeout *t, struct ex_future *inner, uint64_t deadline_ns);

/** yield_now: pending once (after waking its task), ready at the next poll. */
struct ex_yield {
	struct ex_future base;
	uint8_t yielded;
};
void ex_yield_init(struct ex_yield *y);

#ifdef __cplusplus
}
#endif

#endif /* RIPTIDE_EX_COMBINATOR_H */
