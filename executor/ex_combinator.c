/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ex_combinator.c - ready, map, then, join, try_join, select, timeout,
 * yield_now. Each poll is a small state machine over embedded children.
 *
 * Polled and dropped on the lcore that runs the enclosing task.
 */
#include <errno.h>

#include "ex_combinator.h"
#include "ex_executor.h"

/* Drop every child that has not finished. */
static void
drop_pending(struct ex_future **futs, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (!ex_future_is_done(futs[i]))
			ex_future_drop(futs[i]);
}

/* ---- ready ---- */

static enum ex_poll
ready_poll(struct ex_future *f, struct ex_context *cx)
{
	(void)f;
	(void)cx;
	return EX_READY;
}

static const struct ex_future_ops ready_ops = { .poll = ready_poll, .drop = NULL, .name = "ready" };

void
ex_ready_init(struct ex_ready *r, int32_t result)
{
	ex_future_init(&r->base, &ready_ops);
	r->base.result = result;
}

/* ---- map ---- */

static enum ex_poll
map_poll(struct ex_future *f, struct ex_context *cx)
{
	struct ex_map *m = EX_CONTAINER_OF(f, struct ex_map, base);

	if (ex_await(m->inner, cx) == EX_PENDING)
		return EX_PENDING;
	f->result = m->fn(m->inner, m->arg);
	return EX_READY;
}

static void
map_drop(struct ex_future *f)
{
	struct ex_map *m = EX_CONTAINER_OF(f, struct ex_map, base);

	ex_future_drop(m->inner);
}

static const struct ex_future_ops map_ops = { .poll = map_poll, .drop = map_drop, .name = "map" };

void
ex_map_init(struct ex_map *m, struct ex_future *inner, ex_map_fn *fn, void *arg)
{
	ex_future_init(&m->base, &map_ops);
	m->inner = inner;
	m->fn = fn;
	m->arg = arg;
}

/* ---- then ---- */

static enum ex_poll
then_poll(struct ex_future *f, struct ex_context *cx)
{
	struct ex_then *t = EX_CONTAINER_OF(f, struct ex_then, base);
	int32_t rc;

	switch (t->state) {
	case EX_THEN_STATE_FIRST:
		if (ex_await(t->first, cx) == EX_PENDING)
			return EX_PENDING;
		if (t->first->result < 0) {
			f->result = t->first->result;
			return EX_READY;
		}
		rc = t->fn(t->first, t->second, t->arg);
		if (rc < 0) {
			f->result = rc;
			return EX_READY;
		}
		t->state = EX_THEN_STATE_SECOND;
		/* poll second now: it may be ready at once */
		__attribute__((fallthrough));
	case EX_THEN_STATE_SECOND:
		if (ex_await(t->second, cx) == EX_PENDING)
			return EX_PENDING;
		f->result = t->second->result;
		return EX_READY;
	}
	return EX_PENDING;
}

static void
then_drop(struct ex_future *f)
{
	struct ex_then *t = EX_CONTAINER_OF(f, struct ex_then, base);

	if (t->state == EX_THEN_STATE_FIRST)
		ex_future_drop(t->first);
	else
		ex_future_drop(t->second);
}

static const struct ex_future_ops then_ops = {
	.poll = then_poll, .drop = then_drop, .name = "then"
};

void
ex_then_init(struct ex_then *t, struct ex_future *first, struct ex_future *second, ex_then_fn *fn,
		void *arg)
{
	ex_future_init(&t->base, &then_ops);
	t->first = first;
	t->second = second;
	t->fn = fn;
	t->arg = arg;
	t->state = EX_THEN_STATE_FIRST;
}

/* ---- join ---- */

static enum ex_poll
join_all_poll(struct ex_future *f, struct ex_context *cx)
{
	struct ex_join_all *j = EX_CONTAINER_OF(f, struct ex_join_all, base);
	uint32_t i;

	for (i = 0; i < j->n; i++)
		if (!ex_future_is_done(j->futs[i]) && ex_future_poll(j->futs[i], cx) == EX_READY)
			j->remaining--;
	return j->remaining == 0 ? EX_READY : EX_PENDING;
}

static void
join_all_drop(struct ex_future *f)
{
	struct ex_join_all *j = EX_CONTAINER_OF(f, struct ex_join_all, base);

	drop_pending(j->futs, j->n);
}

static const struct ex_future_ops join_all_ops = {
	.poll = join_all_poll,
	.drop = join_all_drop,
	.name = "join_all",
};

void
ex_join_all_init(struct ex_join_all *j, struct ex_future **futs, uint32_t n)
{
	ex_future_init(&j->base, &join_all_ops);
	j->futs = futs;
	j->n = n;
	j->remaining = n;
}

static enum ex_poll
join2_poll(struct ex_future *f, struct ex_context *cx)
{
	struct ex_join2 *j = EX_CONTAINER_OF(f, struct ex_join2, base);
	enum ex_poll a = ex_await(j->a, cx);
	enum ex_poll b = ex_await(j->b, cx);

	return a == EX_READY && b == EX_READY ? EX_READY : EX_PENDING;
}

static void
join2_drop(struct ex_future *f)
{
	struct ex_join2 *j = EX_CONTAINER_OF(f, struct ex_join2, base);

	ex_future_drop(j->a);
	ex_future_drop(j->b);
}

static const struct ex_future_ops join2_ops = {
	.poll = join2_poll,
	.drop = join2_drop,
	.name = "join2",
};

void
ex_join2_init(struct ex_join2 *j, struct ex_future *a, struct ex_future *b)
{
	ex_future_init(&j->base, &join2_ops);
	j->a = a;
	j->b = b;
}

/* ---- try_join ---- */

static enum ex_poll
try_join_poll(struct ex_future *f, struct ex_context *cx)
{
	struct ex_try_join *j = EX_CONTAINER_OF(f, struct ex_try_join, base);
	uint32_t i;

	for (i = 0; i < j->n; i++) {
		struct ex_future *c = j->futs[i];

		if (ex_future_is_done(c) || ex_future_poll(c, cx) == EX_PENDING)
			continue;
		if (c->result < 0) {
			/* First error wins; the rest are cancelled now. */
			j->failed = (int32_t)i;
			f->result = c->result;
			drop_pending(j->futs, j->n);
			return EX_READY;
		}
		j->remaining--;
	}
	return j->remaining == 0 ? EX_READY : EX_PENDING;
}

static void
try_join_drop(struct ex_future *f)
{
	struct ex_try_join *j = EX_CONTAINER_OF(f, struct ex_try_join, base);

	drop_pending(j->futs, j->n);
}

static const struct ex_future_ops try_join_ops = {
	.poll = try_join_poll,
	.drop = try_join_drop,
	.name = "try_join",
};

void
ex_try_join_init(struct ex_try_join *j, struct ex_future **futs, uint32_t n)
{
	ex_future_init(&j->base, &try_join_ops);
	j->futs = futs;
	j->n = n;
	j->remaining = n;
	j->failed = -1;
}

/* ---- select ---- */

static enum ex_poll
select_poll(struct ex_future *f, struct ex_context *cx)
{
	struct ex_select *s = EX_CONTAINER_OF(f, struct ex_select, base);
	uint32_t i;

	for (i = 0; i < s->n; i++) {
		if (ex_future_poll(s->futs[i], cx) == EX_READY) {
			s->winner = (int32_t)i;
			f->result = s->futs[i]->result;
			drop_pending(s->futs, s->n); /* the losers */
			return EX_READY;
		}
	}
	return EX_PENDING;
}

static void
select_drop(struct ex_future *f)
{
	struct ex_select *s = EX_CONTAINER_OF(f, struct ex_select, base);

	drop_pending(s->futs, s->n);
}

static const struct ex_future_ops select_ops = {
	.poll = select_poll,
	.drop = select_drop,
	.name = "select",
};

void
ex_select_init(struct ex_select *s, struct ex_future **futs, uint32_t n)
{
	ex_future_init(&s->base, &select_ops);
	s->futs = futs;
	s->n = n;
	s->winner = -1;
}

/* ---- timeout ---- */

static enum ex_poll
timeout_poll(struct ex_future *f, struct ex_context *cx)
{
	struct ex_timeout *t = EX_CONTAINER_OF(f, struct ex_timeout, base);

	if (ex_future_poll(t->inner, cx) == EX_READY) {
		f->result = t->inner->result;
		ex_future_drop(&t->sleep.base); /* disarm the deadline */
		return EX_READY;
	}
	if (ex_future_poll(&t->sleep.base, cx) == EX_READY) {
		f->result = -ETIMEDOUT;
		ex_future_drop(t->inner);
		return EX_READY;
	}
	return EX_PENDING;
}

static void
timeout_drop(struct ex_future *f)
{
	struct ex_timeout *t = EX_CONTAINER_OF(f, struct ex_timeout, base);

	ex_future_drop(t->inner);
	ex_future_drop(&t->sleep.base);
}

static const struct ex_future_ops timeout_ops = {
	.poll = timeout_poll,
	.drop = timeout_drop,
	.name = "timeout",
};

void
ex_timeout_init(struct ex_timeout *t, struct ex_future *inner, uint64_t duration_ns)
{
	ex_future_init(&t->base, &timeout_ops);
	t->inner = inner;
	ex_sleep_init(&t->sleep, duration_ns);
}

void
ex_timeout_until_init(struct ex_timeout *t, struct ex_future *inner, uint64_t deadline_ns)
{
	ex_future_init(&t->base, &timeout_ops);
	t->inner = inner;
	ex_sleep_until_init(&t->sleep, deadline_ns);
}

/* ---- yield_now ---- */

static enum ex_poll
yield_poll(struct ex_future *f, struct ex_context *cx)
{
	struct ex_yield *y = EX_CONTAINER_OF(f, struct ex_yield, base);

	if (y->yielded)
		return EX_READY;
	y->yielded = 1;
	ex_waker_wake(&cx->waker); /* back of the ready queue */
	return EX_PENDING;
}

static const struct ex_future_ops yield_ops = { .poll = yield_poll, .drop = NULL, .name = "yield" };

void
ex_yield_init(struct ex_yield *y)
{
	ex_future_init(&y->base, &yield_ops);
	y->yielded = 0;
}

/* ---- stop_after ---- */

static enum ex_poll
stop_after_poll(struct ex_future *f, struct ex_context *cx)
{
	struct ex_stop_after *s = EX_CONTAINER_OF(f, struct ex_stop_after, base);
	struct ex_executor *ex = ex_context_executor(cx);

	if (ex_await(&s->sleep.base, cx) == EX_PENDING)
		return EX_PENDING;
	ex_stop(ex != NULL ? ex : ex_current());
	return EX_READY;
}

static void
stop_after_drop(struct ex_future *f)
{
	ex_future_drop(&EX_CONTAINER_OF(f, struct ex_stop_after, base)->sleep.base);
}

static const struct ex_future_ops stop_after_ops = {
	.poll = stop_after_poll,
	.drop = stop_after_drop,
	.name = "stop_after",
};

void
ex_stop_after_init(struct ex_stop_after *s, uint64_t duration_ns)
{
	ex_future_init(&s->base, &stop_after_ops);
	ex_sleep_init(&s->sleep, duration_ns);
}
