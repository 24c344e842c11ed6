/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_sock.c - the application's side of TCP: accept and connect futures,
 * recv / read / write futures, send of mbuf chains, shutdown, close, abort,
 * and a connection as a stream (receive side) and a sink (send side). On the
 * lcore of the stack.
 */
#include <errno.h>
#include <string.h>

#include <rte_mbuf.h>

#include "tcp_priv.h"

static void
wait_rx(struct tcp_conn *c, struct ex_context *cx)
{
	c->rx_waker = cx->waker;
	c->rx_waiting = true;
}

static void
wait_tx(struct tcp_conn *c, struct ex_context *cx)
{
	c->tx_waker = cx->waker;
	c->tx_waiting = true;
}

/* ---- accept ---- */

static enum ex_poll
accept_poll(struct ex_future *f, struct ex_context *cx)
{
	struct tcp_accept *a = EX_CONTAINER_OF(f, struct tcp_accept, base);
	struct tcp_listener *l = a->l;

	if (!l->open) {
		f->result = -EBADF;
		return EX_READY;
	}
	a->conn = tcp_listener_take(l);
	if (a->conn != NULL) {
		f->result = 0;
		return EX_READY;
	}
	l->waker = cx->waker;
	l->waiting = true;
	return EX_PENDING;
}

/* A dropped accept, recv, read, write, stream or sink touches nothing (review
 * L13): it may be dropped after the connection was closed and its slot given
 * to another connection (or after the listener was closed and freed), and
 * clearing a waiting flag there took that one's wake-up away. A registration
 * left behind costs at most one spurious wake-up, which every future
 * tolerates, and a waker of a finished task is stale (its generation). */
static void
accept_drop(struct ex_future *f)
{
	(void)f;
}

static const struct ex_future_ops accept_ops = {
	.poll = accept_poll, .drop = accept_drop, .name = "tcp_accept"
};

void
tcp_accept_init(struct tcp_accept *a, struct tcp_listener *l)
{
	ex_future_init(&a->base, &accept_ops);
	a->l = l;
	a->conn = NULL;
}

/* ---- connect ---- */

static int
connect_start(struct tcp_connect *k)
{
	struct tcp_stack *tcp = k->tcp;
	struct tcp_conn *c;
	uint16_t lport;
	int rc;

	if (k->ip == 0 || k->port == 0)
		return -EINVAL;
	rc = tcp_pick_port(tcp, k->ip, k->port, &lport);
	if (rc != 0)
		return rc;
	c = tcp_conn_alloc(tcp);
	if (c == NULL)
		return -ENOBUFS;
	tcp_conn_setup(c, tcp, tcp->st->cfg.ip, lport, k->ip, k->port);
	c->flags |= TCP_CONN_FLAG_USER;
	tcp_conn_insert(tcp, c);
	tcp_set_state(c, TCP_STATE_SYN_SENT);
	tcp->stats.active_opens++;
	c->flags |= TCP_CONN_FLAG_RTT_TIMING;
	c->rtt_seq = c->iss;
	c->rtt_start_ns = tcp_now_ns(c);
	tcp_send_syn(c);
	tcp_rtx_arm(c);
	k->conn = c;
	return 0;
}

static enum ex_poll
connect_poll(struct ex_future *f, struct ex_context *cx)
{
	struct tcp_connect *k = EX_CONTAINER_OF(f, struct tcp_connect, base);
	struct tcp_conn *c;
	int rc;

	switch (k->state) {
	case TCP_CONNECT_STATE_START:
		rc = connect_start(k);
		if (rc != 0) {
			k->state = TCP_CONNECT_STATE_DONE;
			f->result = rc;
			return EX_READY;
		}
		k->state = TCP_CONNECT_STATE_WAIT;
		/* fall through: ARP may have answered at once */
		__attribute__((fallthrough));
	case TCP_CONNECT_STATE_WAIT:
		c = k->conn;
		if (c->state == TCP_STATE_SYN_SENT || c->state == TCP_STATE_SYN_RECEIVED) {
			wait_tx(c, cx);
			return EX_PENDING;
		}
		k->state = TCP_CONNECT_STATE_DONE;
		if (c->state == TCP_STATE_CLOSED) {
			f->result = c->error != 0 ? c->error : -ECONNREFUSED;
			tcp_conn_release(c);
			k->conn = NULL;
			return EX_READY;
		}
		f->result = 0;
		return EX_READY;
	case TCP_CONNECT_STATE_DONE:
		break;
	}
	return EX_READY;
}

static void
connect_drop(struct ex_future *f)
{
	struct tcp_connect *k = EX_CONTAINER_OF(f, struct tcp_connect, base);

	/* Abandoned while connecting: the attempt goes with it. */
	if (k->state == TCP_CONNECT_STATE_WAIT && k->conn != NULL) {
		tcp_abort(k->conn);
		k->conn = NULL;
	}
}

static const struct ex_future_ops connect_ops = {
	.poll = connect_poll, .drop = connect_drop, .name = "tcp_connect"
};

void
tcp_connect_init(struct tcp_connect *k, struct tcp_stack *tcp, uint32_t ip, uint16_t port)
{
	ex_future_init(&k->base, &connect_ops);
	k->tcp = tcp;
	k->ip = ip;
	k->port = port;
	k->state = TCP_CONNECT_STATE_START;
	k->conn = NULL;
}

/* ---- receiving ---- */

/* A reader found nothing queued: 0 at the end of the stream, the error, or
 * 1 once it is registered to be woken when that changes. */
static int
rx_idle(struct tcp_conn *c, struct ex_context *cx)
{
	/* The error first: a FIN followed by a RST is a reset stream, never a
	 * clean end (review M4). */
	if (c->error != 0)
		return c->error;
	if (c->flags & TCP_CONN_FLAG_FIN_RCVD)
		return 0;
	if (c->state == TCP_STATE_CLOSED)
		return -ENOTCONN;
	wait_rx(c, cx);
	return 1;
}

/* Unlink whole segments, at most max bytes (max 0: all; at least one). */
static struct rte_mbuf *
rcvq_take(struct tcp_conn *c, uint32_t max)
{
	struct rte_mbuf *head = c->rcvq_head, *m = head, *last = NULL;
	uint32_t bytes = 0;
	uint16_t n = 0; /* at most RTE_MBUF_MAX_NB_SEGS */

	while (m != NULL && (n == 0 || max == 0 || bytes + m->data_len <= max) &&
			n < RTE_MBUF_MAX_NB_SEGS) {
		bytes += m->data_len;
		n++;
		last = m;
		m = m->next;
	}
	last->next = NULL;
	c->rcvq_head = m;
	if (m == NULL)
		c->rcvq_tail = NULL;
	c->rcvq_bytes -= bytes;
	tcp_held(c, &c->rcvq_segs, -(int32_t)n);
	head->nb_segs = n;
	head->pkt_len = bytes;
	tcp_maybe_window_update(c);
	return head;
}

static enum ex_poll
recv_poll(struct ex_future *f, struct ex_context *cx)
{
	struct tcp_recv *r = EX_CONTAINER_OF(f, struct tcp_recv, base);
	struct tcp_conn *c = r->conn;
	int end;

	if (c->rcvq_head != NULL) {
		r->m = rcvq_take(c, r->max);
		f->result = (int32_t)r->m->pkt_len;
		return EX_READY;
	}
	end = rx_idle(c, cx);
	if (end > 0)
		return EX_PENDING;
	f->result = end;
	return EX_READY;
}

static void
rx_drop(struct tcp_conn *c)
{
	(void)c; /* see accept_drop: rx_waiting stays as it is */
}

static void
recv_drop(struct ex_future *f)
{
	rx_drop(EX_CONTAINER_OF(f, struct tcp_recv, base)->conn);
}

static const struct ex_future_ops recv_ops = {
	.poll = recv_poll, .drop = recv_drop, .name = "tcp_recv"
};

void
tcp_recv_init(struct tcp_recv *r, struct tcp_conn *c, uint32_t max)
{
	ex_future_init(&r->base, &recv_ops);
	r->conn = c;
	r->max = max;
	r->m = NULL;
}

/* Copy received bytes into buf, at most len, and through the first byte
 * equal to delim if delim >= 0 (*found then set); what is copied leaves the
 * receive queue, the rest stays. @return bytes copied. */
static uint32_t
rcvq_copy(struct tcp_conn *c, uint8_t *buf, uint32_t len, int delim, bool *found)
{
	uint32_t done = 0;

	while (c->rcvq_head != NULL && done < len && !(found != NULL && *found)) {
		struct rte_mbuf *m = c->rcvq_head;
		const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
		uint32_t take = RTE_MIN((uint32_t)m->data_len, len - done);

		if (delim >= 0) {
			const uint8_t *d = memchr(p, delim, take);

			if (d != NULL) {
				take = (uint32_t)(d - p) + 1;
				*found = true;
			}
		}
		memcpy(buf + done, p, take);
		done += take;
		c->rcvq_bytes -= take;
		if (take == m->data_len) {
			c->rcvq_head = m->next;
			if (c->rcvq_head == NULL)
				c->rcvq_tail = NULL;
			tcp_held(c, &c->rcvq_segs, -1);
			m->next = NULL;
			rte_pktmbuf_free_seg(m);
		} else {
			m->data_off = (uint16_t)(m->data_off + take);
			m->data_len = (uint16_t)(m->data_len - take);
			m->pkt_len = m->data_len;
		}
	}
	if (done > 0)
		tcp_maybe_window_update(c);
	return done;
}

static enum ex_poll
read_poll(struct ex_future *f, struct ex_context *cx)
{
	struct tcp_read *r = EX_CONTAINER_OF(f, struct tcp_read, base);
	struct tcp_conn *c = r->conn;
	uint32_t done = rcvq_copy(c, r->buf, r->len, -1, NULL);
	int end;

	if (done > 0) {
		f->result = (int32_t)done;
		return EX_READY;
	}
	end = rx_idle(c, cx);
	if (end > 0)
		return EX_PENDING;
	f->result = end;
	return EX_READY;
}

static void
read_drop(struct ex_future *f)
{
	rx_drop(EX_CONTAINER_OF(f, struct tcp_read, base)->conn);
}

static const struct ex_future_ops read_ops = {
	.poll = read_poll, .drop = read_drop, .name = "tcp_read"
};

void
tcp_read_init(struct tcp_read *r, struct tcp_conn *c, void *buf, uint32_t len)
{
	ex_future_init(&r->base, &read_ops);
	r->conn = c;
	r->buf = buf;
	r->len = len;
}

/* ---- reading helpers (Tokio's AsyncReadExt / AsyncBufReadExt) ---- */

static enum ex_poll
read_exact_poll(struct ex_future *f, struct ex_context *cx)
{
	struct tcp_read_exact *r = EX_CONTAINER_OF(f, struct tcp_read_exact, base);
	int end;

	for (;;) {
		r->done += rcvq_copy(
				r->conn, (uint8_t *)r->buf + r->done, r->len - r->done, -1, NULL);
		if (r->done == r->len) {
			f->result = (int32_t)r->len;
			return EX_READY;
		}
		end = rx_idle(r->conn, cx);
		if (end > 0)
			return EX_PENDING;
		f->result = end == 0 ? -ENODATA : end; /* the stream ended first */
		return EX_READY;
	}
}

static void
read_exact_drop(struct ex_future *f)
{
	rx_drop(EX_CONTAINER_OF(f, struct tcp_read_exact, base)->conn);
}

static const struct ex_future_ops read_exact_ops = {
	.poll = read_exact_poll, .drop = read_exact_drop, .name = "tcp_read_exact"
};

void
tcp_read_exact_init(struct tcp_read_exact *r, struct tcp_conn *c, void *buf, uint32_t len)
{
	ex_future_init(&r->base, &read_exact_ops);
	r->conn = c;
	r->buf = buf;
	r->len = len;
	r->done = 0;
}

/* One step of read_until: EX_PENDING (the waker registered), or EX_READY
 * with *rc its result. */
static enum ex_poll
until_step(struct tcp_conn *c, uint8_t *buf, uint32_t cap, uint8_t delim, uint32_t *len,
		struct ex_context *cx, int32_t *rc)
{
	bool found = false;
	int end;

	*len += rcvq_copy(c, buf + *len, cap - *len, delim, &found);
	if (found) {
		*rc = (int32_t)*len;
		return EX_READY;
	}
	if (*len == cap) {
		*rc = -EMSGSIZE; /* no delimiter within the buffer */
		return EX_READY;
	}
	end = rx_idle(c, cx);
	if (end > 0)
		return EX_PENDING;
	/* The peer closed: the last part, without its delimiter; or an error. */
	*rc = end == 0 ? (int32_t)*len : end;
	return EX_READY;
}

static enum ex_poll
read_until_poll(struct ex_future *f, struct ex_context *cx)
{
	struct tcp_read_until *r = EX_CONTAINER_OF(f, struct tcp_read_until, base);

	return until_step(r->conn, r->buf, r->cap, r->delim, &r->len, cx, &f->result);
}

static void
read_until_drop(struct ex_future *f)
{
	rx_drop(EX_CONTAINER_OF(f, struct tcp_read_until, base)->conn);
}

static const struct ex_future_ops read_until_ops = {
	.poll = read_until_poll, .drop = read_until_drop, .name = "tcp_read_until"
};

void
tcp_read_until_init(struct tcp_read_until *r, struct tcp_conn *c, uint8_t delim, void *buf,
		uint32_t cap)
{
	ex_future_init(&r->base, &read_until_ops);
	r->conn = c;
	r->delim = delim;
	r->buf = buf;
	r->cap = cap;
	r->len = 0;
}

static enum ex_next
lines_next(struct ex_stream *s, struct ex_context *cx, union ex_item *out)
{
	struct tcp_lines *l = EX_CONTAINER_OF(s, struct tcp_lines, base);
	int32_t rc;

	if (l->ended)
		return EX_NEXT_END;
	if (until_step(l->conn, (uint8_t *)l->buf, l->cap - 1, '\n', &l->len, cx, &rc) ==
			EX_PENDING)
		return EX_NEXT_PENDING;
	if (rc <= 0) {
		/* The end (rc 0: the peer closed after a whole line) or an
		 * error: a line longer than the buffer, a reset. */
		l->ended = true;
		s->error = rc;
		return EX_NEXT_END;
	}
	l->line_len = (uint32_t)rc;
	l->len = 0; /* the next line starts afresh */
	if (l->line_len > 0 && l->buf[l->line_len - 1] == '\n') {
		l->line_len--;
		if (l->line_len > 0 && l->buf[l->line_len - 1] == '\r')
			l->line_len--;
	}
	l->buf[l->line_len] = '\0';
	out->ptr = l->buf;
	return EX_NEXT_ITEM;
}

static void
lines_drop(struct ex_stream *s)
{
	rx_drop(EX_CONTAINER_OF(s, struct tcp_lines, base)->conn);
}

static const struct ex_stream_ops lines_ops = {
	.poll_next = lines_next, .drop = lines_drop, .name = "tcp_lines"
};

int
tcp_lines_init(struct tcp_lines *l, struct tcp_conn *c, char *buf, uint32_t cap)
{
	if (buf == NULL || cap < 2)
		return -EINVAL;
	l->base.ops = &lines_ops;
	l->base.error = 0;
	l->conn = c;
	l->buf = buf;
	l->cap = cap;
	l->len = l->line_len = 0;
	l->ended = false;
	return 0;
}

/* ---- sending ---- */

/* 0 if the application may queue data now, else why not. */
static int
tx_status(const struct tcp_conn *c)
{
	if (c->error != 0)
		return c->error;
	if (c->flags & TCP_CONN_FLAG_FIN_QUEUED)
		return -EPIPE;
	if (c->state == TCP_STATE_ESTABLISHED || c->state == TCP_STATE_CLOSE_WAIT)
		return 0;
	return -ENOTCONN;
}

uint32_t
tcp_send_space(const struct tcp_conn *c)
{
	uint32_t buf = c->snd_buf;

	if (tx_status(c) != 0 || tcp_mem_send_blocked(c))
		return 0;
	return buf > c->sndq_bytes ? buf - c->sndq_bytes : 0;
}

static void
sndq_link(struct tcp_conn *c, struct rte_mbuf *m)
{
	if (c->sndq_tail == NULL)
		c->sndq_head = m;
	else
		c->sndq_tail->next = m;
	c->sndq_tail = m;
	tcp_held(c, &c->sndq_segs, 1);
}

/* Free bytes after the send queue's tail that nobody else can see (0 when
 * the tail is not ours). */
static uint32_t
sndq_tail_room(const struct tcp_conn *c)
{
	if (!(c->flags & TCP_CONN_FLAG_SNDQ_OWN_TAIL) || c->sndq_tail == NULL)
		return 0;
	return rte_pktmbuf_tailroom(c->sndq_tail);
}

int
tcp_send_mbuf(struct tcp_conn *c, struct rte_mbuf *m)
{
	int rc = tx_status(c);

	if (rc != 0)
		return rc;
	if (c->sndq_bytes >= c->snd_buf || tcp_mem_send_blocked(c))
		return -EAGAIN;
	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		m->next = NULL;
		m->nb_segs = 1;
		m->pkt_len = m->data_len;
		c->sndq_bytes += m->data_len;
		c->snd_end += m->data_len;
		if (m->data_len == 0) {
			rte_pktmbuf_free_seg(m);
		} else if (m->data_len < TCP_PACK_BELOW && sndq_tail_room(c) >= m->data_len) {
			/* A small one after a tail of ours: copy it there, so a
			 * peer trickling tiny segments through a forwarder
			 * cannot park an mbuf per byte here (review H1). */
			struct rte_mbuf *t = c->sndq_tail;

			memcpy(rte_pktmbuf_mtod_offset(t, char *, t->data_len),
					rte_pktmbuf_mtod(m, char *), m->data_len);
			t->data_len = (uint16_t)(t->data_len + m->data_len);
			t->pkt_len = t->data_len;
			rte_pktmbuf_free_seg(m);
			c->tcp->stats.snd_packed++;
		} else {
			sndq_link(c, m);
			/* A small direct mbuf that is now ours alone becomes a
			 * tail the next small ones pack into. */
			if (m->data_len < TCP_PACK_BELOW && RTE_MBUF_DIRECT(m) &&
					rte_mbuf_refcnt_read(m) == 1)
				c->flags |= TCP_CONN_FLAG_SNDQ_OWN_TAIL;
			else
				c->flags &= ~(uint32_t)TCP_CONN_FLAG_SNDQ_OWN_TAIL;
		}
		m = next;
	}
	tcp_output(c);
	return 0;
}

/* Copy up to len bytes into the send queue; @return bytes taken, or
 * -ENOBUFS if the pool is empty and nothing was taken. */
static int
sndq_copy(struct tcp_conn *c, const uint8_t *p, uint32_t len)
{
	struct rte_mempool *pool = c->tcp->st->pool;
	uint32_t done = 0;

	if ((c->flags & TCP_CONN_FLAG_SNDQ_OWN_TAIL) && c->sndq_tail != NULL) {
		struct rte_mbuf *t = c->sndq_tail;
		uint32_t room = RTE_MIN((uint32_t)rte_pktmbuf_tailroom(t), len);

		/* Bytes past the tail's data belong to nobody in flight. */
		memcpy(rte_pktmbuf_mtod_offset(t, uint8_t *, t->data_len), p, room);
		t->data_len = (uint16_t)(t->data_len + room);
		t->pkt_len = t->data_len;
		done = room;
	}
	while (done < len) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		uint32_t take;

		if (m == NULL)
			break;
		take = RTE_MIN((uint32_t)rte_pktmbuf_tailroom(m), len - done);
		memcpy(rte_pktmbuf_mtod(m, uint8_t *), p + done, take);
		m->data_len = (uint16_t)take;
		m->pkt_len = take;
		sndq_link(c, m);
		c->flags |= TCP_CONN_FLAG_SNDQ_OWN_TAIL;
		done += take;
	}
	c->sndq_bytes += done;
	c->snd_end += done;
	if (done == 0 && len > 0)
		return -ENOBUFS;
	return (int)done;
}

static enum ex_poll
write_poll(struct ex_future *f, struct ex_context *cx)
{
	struct tcp_write *w = EX_CONTAINER_OF(f, struct tcp_write, base);
	struct tcp_conn *c = w->conn;

	while (w->done < w->len) {
		int rc = tx_status(c);
		uint32_t space;

		if (rc != 0) {
			f->result = w->done > 0 ? (int32_t)w->done : rc;
			return EX_READY;
		}
		space = tcp_send_space(c);
		if (space == 0) {
			wait_tx(c, cx);
			return EX_PENDING;
		}
		rc = sndq_copy(c, w->buf + w->done, RTE_MIN(space, w->len - w->done));
		if (rc < 0) {
			/* Review M8: say how much is in the stream, or the caller
			 * can neither retry (duplicates) nor give up (truncates). */
			f->result = w->done > 0 ? (int32_t)w->done : rc;
			if (w->done > 0)
				tcp_output(c);
			return EX_READY;
		}
		w->done += (uint32_t)rc;
		tcp_output(c);
	}
	f->result = (int32_t)w->len;
	return EX_READY;
}

static void
tx_drop(struct tcp_conn *c)
{
	(void)c; /* see accept_drop: tx_waiting stays as it is */
}

static void
write_drop(struct ex_future *f)
{
	tx_drop(EX_CONTAINER_OF(f, struct tcp_write, base)->conn);
}

static const struct ex_future_ops write_ops = {
	.poll = write_poll, .drop = write_drop, .name = "tcp_write"
};

void
tcp_write_init(struct tcp_write *w, struct tcp_conn *c, const void *buf, uint32_t len)
{
	ex_future_init(&w->base, &write_ops);
	w->conn = c;
	w->buf = buf;
	w->len = len;
	w->done = 0;
}

/* ---- closing ---- */

int
tcp_shutdown(struct tcp_conn *c)
{
	if (c->flags & TCP_CONN_FLAG_FIN_QUEUED)
		return 0;
	switch (c->state) {
	case TCP_STATE_ESTABLISHED:
		c->flags |= TCP_CONN_FLAG_FIN_QUEUED;
		tcp_set_state(c, TCP_STATE_FIN_WAIT_1);
		break;
	case TCP_STATE_CLOSE_WAIT:
		c->flags |= TCP_CONN_FLAG_FIN_QUEUED;
		tcp_set_state(c, TCP_STATE_LAST_ACK);
		break;
	default:
		return -ENOTCONN;
	}
	tcp_output(c);
	return 0;
}

void
tcp_close(struct tcp_conn *c)
{
	c->flags &= ~(uint32_t)TCP_CONN_FLAG_USER;
	c->rx_waiting = c->tx_waiting = false;
	switch (c->state) {
	case TCP_STATE_CLOSED:
		tcp_conn_release(c);
		return;
	case TCP_STATE_SYN_SENT:
		tcp_conn_terminate(c, 0);
		return;
	default:
		break;
	}
	if (c->rcvq_bytes > 0 && c->state != TCP_STATE_TIME_WAIT) {
		/* Unread data: RFC 2525 2.17, as Linux, reset rather than lose it
		 * silently behind a normal close. */
		tcp_send_rst(c);
		tcp_conn_terminate(c, -ECONNABORTED);
		return;
	}
	tcp_mbuf_list_free(c->rcvq_head);
	c->rcvq_head = c->rcvq_tail = NULL;
	c->rcvq_bytes = 0;
	tcp_held(c, &c->rcvq_segs, -(int32_t)c->rcvq_segs);
	switch (c->state) {
	case TCP_STATE_SYN_RECEIVED:
	case TCP_STATE_ESTABLISHED:
	case TCP_STATE_CLOSE_WAIT:
		if (c->state == TCP_STATE_SYN_RECEIVED)
			tcp_set_state(c, TCP_STATE_ESTABLISHED);
		tcp_shutdown(c);
		break;
	case TCP_STATE_FIN_WAIT_2:
		tcp_keep_arm(c, c->tcp->cfg.fin_wait2_ms);
		break;
	case TCP_STATE_TIME_WAIT:
		tcp_link_append(&c->tcp->time_wait, &c->link);
		c->flags |= TCP_CONN_FLAG_LISTED;
		break;
	default:
		break; /* FIN_WAIT_1, CLOSING, LAST_ACK finish alone */
	}
	if (c->state != TCP_STATE_CLOSED && c->state != TCP_STATE_TIME_WAIT &&
			!(c->flags & TCP_CONN_FLAG_ORPHAN)) {
		/* Nobody will read its errors: the stack bounds its life
		 * (orphan_retries, max_orphans, fin_wait2_ms). */
		c->flags |= TCP_CONN_FLAG_ORPHAN;
		c->tcp->stats.orphans++;
	}
}

void
tcp_abort(struct tcp_conn *c)
{
	c->flags &= ~(uint32_t)TCP_CONN_FLAG_USER;
	c->rx_waiting = c->tx_waiting = false;
	if (c->state == TCP_STATE_CLOSED) {
		tcp_conn_release(c);
		return;
	}
	if (c->state != TCP_STATE_TIME_WAIT)
		tcp_send_rst(c);
	tcp_conn_terminate(c, -ECONNABORTED);
}

/* ---- stream and sink ---- */

static enum ex_next
rx_stream_next(struct ex_stream *s, struct ex_context *cx, union ex_item *out)
{
	struct tcp_rx_stream *rs = EX_CONTAINER_OF(s, struct tcp_rx_stream, base);
	struct tcp_conn *c = rs->conn;
	int end;

	if (c->rcvq_head != NULL) {
		out->ptr = rcvq_take(c, 0);
		return EX_NEXT_ITEM;
	}
	end = rx_idle(c, cx);
	if (end > 0)
		return EX_NEXT_PENDING;
	s->error = end;
	return EX_NEXT_END;
}

static void
rx_stream_drop(struct ex_stream *s)
{
	rx_drop(EX_CONTAINER_OF(s, struct tcp_rx_stream, base)->conn);
}

static const struct ex_stream_ops rx_stream_ops = {
	.poll_next = rx_stream_next, .drop = rx_stream_drop, .name = "tcp_rx"
};

void
tcp_rx_stream_init(struct tcp_rx_stream *s, struct tcp_conn *c)
{
	s->base.ops = &rx_stream_ops;
	s->base.error = 0;
	s->conn = c;
}

static enum ex_poll
sink_ready(struct ex_sink *k, struct ex_context *cx)
{
	struct tcp_conn *c = EX_CONTAINER_OF(k, struct tcp_tx_sink, base)->conn;
	int rc = tx_status(c);

	if (rc != 0) {
		k->error = rc;
		return EX_READY;
	}
	if (c->sndq_bytes < c->snd_buf && !tcp_mem_send_blocked(c))
		return EX_READY;
	wait_tx(c, cx);
	return EX_PENDING;
}

static int
sink_send(struct ex_sink *k, union ex_item item)
{
	struct tcp_conn *c = EX_CONTAINER_OF(k, struct tcp_tx_sink, base)->conn;

	return tcp_send_mbuf(c, item.ptr);
}

static enum ex_poll
sink_flush(struct ex_sink *k, struct ex_context *cx)
{
	struct tcp_conn *c = EX_CONTAINER_OF(k, struct tcp_tx_sink, base)->conn;

	if (c->error != 0) {
		k->error = c->error;
		return EX_READY;
	}
	if (c->sndq_bytes == 0)
		return EX_READY;
	wait_tx(c, cx);
	return EX_PENDING;
}

static enum ex_poll
sink_close(struct ex_sink *k, struct ex_context *cx)
{
	struct tcp_conn *c = EX_CONTAINER_OF(k, struct tcp_tx_sink, base)->conn;

	if (c->error != 0) {
		k->error = c->error;
		return EX_READY;
	}
	if (!(c->flags & TCP_CONN_FLAG_FIN_QUEUED) && tcp_shutdown(c) != 0) {
		k->error = -ENOTCONN;
		return EX_READY;
	}
	if (tcp_seq_gt(c->snd_una, c->snd_end) || c->state == TCP_STATE_CLOSED)
		return EX_READY;
	wait_tx(c, cx);
	return EX_PENDING;
}

static const struct ex_sink_ops sink_ops = {
	.poll_ready = sink_ready,
	.start_send = sink_send,
	.poll_flush = sink_flush,
	.poll_close = sink_close,
	.name = "tcp_tx",
};

void
tcp_tx_sink_init(struct tcp_tx_sink *k, struct tcp_conn *c)
{
	k->base.ops = &sink_ops;
	k->base.error = 0;
	k->conn = c;
}
