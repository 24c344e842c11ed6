/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_serve.c - accept, and spawn a session per connection in a slab slot
 * (see tcp_serve.h).
 */
#include "tcp_serve.h"

#include <errno.h>
#include <string.h>

/* A session for c in a free slot, spawned; false: refused (c is still ours). */
static bool
session_spawn(struct tcp_serve *s, struct tcp_conn *c)
{
	void *slot = ex_slab_get(s->sessions);
	struct ex_future *f;

	if (slot == NULL)
		return false;
	f = s->start(slot, c, s->arg);
	if (f == NULL) {
		ex_slab_put(s->sessions, slot);
		return false;
	}
	if (ex_spawn_slab(s->sessions, f, NULL, NULL) != 0) {
		/* Never polled: dropping it lets go of what start set up, and
		 * of the connection. */
		ex_future_drop(f);
		ex_slab_put(s->sessions, slot);
		return true; /* c was the session's: already let go */
	}
	s->accepted++;
	return true;
}

static enum ex_poll
serve_poll(struct ex_future *f, struct ex_context *cx)
{
	struct tcp_serve *s = EX_CONTAINER_OF(f, struct tcp_serve, base);
	struct tcp_conn *c;

	while (ex_await(&s->acc.base, cx) == EX_READY) {
		if (s->acc.base.result < 0) {
			f->result = s->acc.base.result; /* the listener closed */
			return EX_READY;
		}
		c = s->acc.conn;
		tcp_accept_init(&s->acc, &s->l);
		if (!session_spawn(s, c)) {
			s->refused++;
			tcp_abort(c); /* refused with a RST */
		}
	}
	return EX_PENDING;
}

static const struct ex_future_ops serve_ops = { serve_poll, NULL, "tcp_serve" };

int
tcp_serve_start(struct tcp_serve *s, struct tcp_stack *tcp, uint32_t ip, uint16_t port,
		uint16_t backlog, struct ex_slab *sessions, tcp_session_start_fn *start, void *arg)
{
	int rc;

	if (s == NULL || sessions == NULL || start == NULL)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	rc = tcp_listen(&s->l, tcp, ip, port, backlog);
	if (rc != 0)
		return rc;
	ex_future_init(&s->base, &serve_ops);
	s->sessions = sessions;
	s->start = start;
	s->arg = arg;
	tcp_accept_init(&s->acc, &s->l);
	rc = ex_spawn(&s->base, NULL, NULL);
	if (rc != 0)
		tcp_listener_close(&s->l);
	return rc;
}

void
tcp_serve_close(struct tcp_serve *s)
{
	tcp_listener_close(&s->l);
}
