/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pair.h - a pair's insides, shared by pair.c (its life: pick, connect,
 * forward) and limits.c (its waits: the listener's queue for a slot, the
 * pool's queue for a backend below its max_conns).
 */
#ifndef RIPTIDE_L4PROXY_PAIR_H
#define RIPTIDE_L4PROXY_PAIR_H

#include "ex_combinator.h"
#include "ex_timer.h"
#include "l4proxy.h"

enum pair_state {
	PAIR_STATE_PICK = 0,
	PAIR_STATE_PROXY_IN, /* reading the client's PROXY header (accept_proxy) */
	PAIR_STATE_QUEUED, /* over the listener's max_conns: waiting for a slot */
	PAIR_STATE_WAIT_BACKEND, /* every usable backend full: waiting for one */
	PAIR_STATE_CONNECT,
	PAIR_STATE_HEADER,
	PAIR_STATE_RUN,
	PAIR_STATE_DONE,
};

struct pair {
	struct ex_future base;
	enum pair_state state;
	struct listener *ls;
	struct pool *pool;
	bool admitted; /* counted in ls->active */
	struct pair_wq *wq; /* the queue it waits in, or NULL */
	TAILQ_ENTRY(pair) wq_link;
	struct ex_waker waker; /* to be told there is room */
	struct ex_sleep qwait; /* how long it may wait */
	int be;
	uint64_t tried;
	struct tcp_conn *cli, *srv;
	uint32_t cli_ip;
	uint16_t cli_port;
	struct tcp_connect conn;
	struct ex_timeout cto;
	struct tcp_write hdr;
	uint8_t pp_out[64]; /* the PROXY header to the backend */
	/* accept_proxy: the header read from the client */
	uint8_t pp_stage;
	bool pp_full; /* the listener was full at accept: queue once it is read */
	struct tcp_read_exact pp_rx;
	struct tcp_read_until pp_line;
	struct ex_sleep pp_deadline;
	uint8_t pp_in[PP_MAX];
	uint32_t dst_ip; /* where the client connected (the header's, if one said) */
	uint16_t dst_port;
	uint64_t seq; /* the lane's count of pairs: the unique ID's last part */
	struct tcp_rx_stream crs, srs;
	struct ex_stream_map cmap, smap;
	struct tcp_tx_sink cks, sks;
	struct ex_forward up, down;
	struct ex_sleep idle;
	uint64_t last_items, bytes_up, bytes_down;
	uint64_t t_accept, t_connect, t_connected; /* executor ns; 0: not yet */
	uint8_t retries; /* connects that failed before this one */
	uint8_t first_fin; /* 1: the client closed first, 2: the backend; 0: neither yet */
};

/* What a state's step asks of the poll loop. */
enum pair_step {
	PAIR_STEP_NEXT = 0, /* the state changed: go on */
	PAIR_STEP_PENDING, /* wait to be woken */
	PAIR_STEP_DONE, /* the pair ended */
};

/* pair.c */
/** End the pair: close both sides (END_CLIENT_FIN, END_BACKEND_FIN) or reset them (any other
 * cause), give back its listener slot and backend slot, leave any queue;
 * count it, and log it. */
void pair_end(struct pair *p, enum pair_end_cause cause);
/** Take a slot of backend p->be and start connecting to it. */
void pair_connect_start(struct pair *p);

/* limits.c */
/** Join the tail of queue q in state st (QUEUED or WAIT_BACKEND). */
void wq_enter(struct pair *p, struct pair_wq *q, enum pair_state st);
/** Leave the queue (room found, timed out, or ended). */
void wq_leave(struct pair *p);
/** A backend slot came free: a waiter may use it. */
void backend_released(struct pool *pool, int be);
/** True if a backend this client may use is only held back by its max_conns. */
bool pool_full(const struct pool *pool, uint64_t tried);
/** PAIR_STATE_QUEUED's step: wait for a listener slot. */
enum pair_step pair_queued(struct pair *p, struct ex_context *cx);
/** PAIR_STATE_WAIT_BACKEND's step: wait for a backend slot. */
enum pair_step pair_wait_backend(struct pair *p, struct ex_context *cx);

#endif
