/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ex_stream.c - stream adapters (iter, map, filter, take), the next future
 * and forward(). Polled on the lcore of the owning task.
 */
#include <errno.h>

#include "ex_stream.h"

#define EX_STREAM_BATCH 64

/* ---- iter ---- */

static enum ex_next
iter_poll_next(struct ex_stream *s, struct ex_context *cx, union ex_item *out)
{
	struct ex_stream_iter *it = EX_CONTAINER_OF(s, struct ex_stream_iter, base);

	(void)cx;
	if (it->pos == it->n)
		return EX_NEXT_END;
	*out = it->items[it->pos++];
	return EX_NEXT_ITEM;
}

static const struct ex_stream_ops iter_ops = {
	.poll_next = iter_poll_next, .drop = NULL, .name = "iter"
};

void
ex_stream_iter_init(struct ex_stream_iter *it, const union ex_item *items, uint32_t n)
{
	it->base.ops = &iter_ops;
	it->base.error = 0;
	it->items = items;
	it->n = n;
	it->pos = 0;
}

/* ---- map ---- */

static enum ex_next
smap_poll_next(struct ex_stream *s, struct ex_context *cx, union ex_item *out)
{
	struct ex_stream_map *m = EX_CONTAINER_OF(s, struct ex_stream_map, base);
	enum ex_next r = ex_stream_poll_next(m->inner, cx, out);

	if (r == EX_NEXT_ITEM)
		*out = m->fn(*out, m->arg);
	else if (r == EX_NEXT_END)
		s->error = m->inner->error;
	return r;
}

static void
smap_drop(struct ex_stream *s)
{
	ex_stream_drop(EX_CONTAINER_OF(s, struct ex_stream_map, base)->inner);
}

static const struct ex_stream_ops smap_ops = {
	.poll_next = smap_poll_next, .drop = smap_drop, .name = "map"
};

void
ex_stream_map_init(struct ex_stream_map *m, struct ex_stream *inner, ex_item_map_fn *fn, void *arg)
{
	m->base.ops = &smap_ops;
	m->base.error = 0;
	m->inner = inner;
	m->fn = fn;
	m->arg = arg;
}

/* ---- filter ---- */

static enum ex_next
filter_poll_next(struct ex_stream *s, struct ex_context *cx, union ex_item *out)
{
	struct ex_stream_filter *f = EX_CONTAINER_OF(s, struct ex_stream_filter, base);
	uint32_t rejected = 0;

	for (;;) {
		enum ex_next r = ex_stream_poll_next(f->inner, cx, out);

		if (r == EX_NEXT_END)
			s->error = f->inner->error;
		if (r != EX_NEXT_ITEM || f->pred(*out, f->arg))
			return r;
		if (f->release != NULL)
			f->release(*out, f->arg);
		/* A long run of rejects must not hog the lcore. */
		if (++rejected == f->budget) {
			ex_waker_wake(&cx->waker);
			return EX_NEXT_PENDING;
		}
	}
}

static void
filter_drop(struct ex_stream *s)
{
	ex_stream_drop(EX_CONTAINER_OF(s, struct ex_stream_filter, base)->inner);
}

static const struct ex_stream_ops filter_ops = {
	.poll_next = filter_poll_next,
	.drop = filter_drop,
	.name = "filter",
};

void
ex_stream_filter_init(struct ex_stream_filter *f, struct ex_stream *inner, ex_item_pred_fn *pred,
		ex_item_release_fn *release, void *arg)
{
	f->base.ops = &filter_ops;
	f->base.error = 0;
	f->inner = inner;
	f->pred = pred;
	f->release = release;
	f->arg = arg;
	f->budget = EX_STREAM_BATCH;
}

/* ---- take ---- */

static enum ex_next
take_poll_next(struct ex_stream *s, struct ex_context *cx, union ex_item *out)
{
	struct ex_stream_take *t = EX_CONTAINER_OF(s, struct ex_stream_take, base);
	enum ex_next r;

	if (t->remaining == 0)
		return EX_NEXT_END;
	r = ex_stream_poll_next(t->inner, cx, out);
	if (r == EX_NEXT_ITEM && --t->remaining == 0)
		ex_stream_drop(t->inner); /* nothing more will be taken */
	else if (r == EX_NEXT_END)
		s->error = t->inner->error;
	return r;
}

static void
take_drop(struct ex_stream *s)
{
	struct ex_stream_take *t = EX_CONTAINER_OF(s, struct ex_stream_take, base);

	if (t->remaining != 0)
		ex_stream_drop(t->inner);
}

static const struct ex_stream_ops take_ops = {
	.poll_next = take_poll_next, .drop = take_drop, .name = "take"
};

void
ex_stream_take_init(struct ex_stream_take *t, struct ex_stream *inner, uint64_t n)
{
	t->base.ops = &take_ops;
	t->base.error = 0;
	t->inner = inner;
	t->remaining = n;
}

/* ---- next ---- */

static enum ex_poll
next_poll(struct ex_future *f, struct ex_context *cx)
{
	struct ex_next_fut *n = EX_CONTAINER_OF(f, struct ex_next_fut, base);

	switch (ex_stream_poll_next(n->stream, cx, &n->item)) {
	case EX_NEXT_ITEM:
		f->result = 1;
		return EX_READY;
	case EX_NEXT_END:
		f->result = n->stream->error;
		return EX_READY;
	case EX_NEXT_PENDING:
		break;
	}
	return EX_PENDING;
}

static const struct ex_future_ops next_ops = { .poll = next_poll, .drop = NULL, .name = "next" };

void
ex_next_init(struct ex_next_fut *n, struct ex_stream *stream)
{
	ex_future_init(&n->base, &next_ops);
	n->stream = stream;
	n->item.u64 = 0;
}

/* ---- forward ---- */

static enum ex_poll
forward_poll(struct ex_future *f, struct ex_context *cx)
{
	struct ex_forward *fw = EX_CONTAINER_OF(f, struct ex_forward, base);
	struct ex_sink *k = fw->sink;
	uint32_t moved = 0;

	switch (fw->state) {
	case EX_FORWARD_STATE_PUMP:
		for (;;) {
			if (fw->has_pending) {
				int rc;

				if (k->ops->poll_ready(k, cx) == EX_PENDING)
					return EX_PENDING; /* backpressure */
				rc = k->error < 0 ? k->error : k->ops->start_send(k, fw->pending);
				if (rc < 0) {
					/* The sink is gone: what we hold is ours to release. */
					if (fw->release != NULL)
						fw->release(fw->pending, fw->release_arg);
					fw->has_pending = false;
					f->result = rc;
					return EX_READY;
				}
				fw->has_pending = false;
				fw->items++;
				if (++moved == fw->batch) {
					ex_waker_wake(&cx->waker); /* yield, stay fair */
					return EX_PENDING;
				}
			}
			switch (ex_stream_poll_next(fw->stream, cx, &fw->pending)) {
			case EX_NEXT_ITEM:
				fw->has_pending = true;
				continue;
			case EX_NEXT_PENDING:
				/* Nothing to read: push out what we sent. */
				k->ops->poll_flush(k, cx);
				return EX_PENDING;
			case EX_NEXT_END:
				break;
			}
			break;
		}
		f->result = fw->stream->error;
		fw->state = EX_FORWARD_STATE_CLOSE;
		__attribute__((fallthrough));
	case EX_FORWARD_STATE_CLOSE:
		if (k->ops->poll_close(k, cx) == EX_PENDING)
			return EX_PENDING;
		if (f->result == 0 && k->error < 0)
			f->result = k->error;
		return EX_READY;
	}
	return EX_PENDING;
}

static void
forward_drop(struct ex_future *f)
{
	struct ex_forward *fw = EX_CONTAINER_OF(f, struct ex_forward, base);

	if (fw->has_pending && fw->release != NULL)
		fw->release(fw->pending, fw->release_arg);
	fw->has_pending = false;
}

static const struct ex_future_ops forward_ops = {
	.poll = forward_poll,
	.drop = forward_drop,
	.name = "forward",
};

void
ex_forward_init(struct ex_forward *f, struct ex_stream *stream, struct ex_sink *sink,
		ex_item_release_fn *release, void *release_arg)
{
	ex_future_init(&f->base, &forward_ops);
	f->stream = stream;
	f->sink = sink;
	f->release = release;
	f->release_arg = release_arg;
	f->has_pending = false;
	f->state = EX_FORWARD_STATE_PUMP;
	f->batch = EX_STREAM_BATCH;
	f->items = 0;
}
