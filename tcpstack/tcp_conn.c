/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_conn.c - the connection table (fixed, per stack), the flow table,
 * listeners, tcp_set_state() and the life of a connection: setup, failure,
 * release. On the lcore of the stack.
 *
 * The flow table is a power-of-two array of buckets chained through the
 * connections themselves (no allocation, one pointer per bucket, lookup in a
 * cache line or two); the bucket comes from a multiply-shift hash of the
 * 4-tuple with a random seed, so a peer cannot aim its ports at one chain.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mempool.h>
#include <rte_random.h>

#include "dp_rss.h"
#include "tcp_isn.h"
#include "tcp_priv.h"

static const char *const state_names[TCP_STATE_MAX] = {
	[TCP_STATE_CLOSED] = "CLOSED",
	[TCP_STATE_LISTEN] = "LISTEN",
	[TCP_STATE_SYN_SENT] = "SYN_SENT",
	[TCP_STATE_SYN_RECEIVED] = "SYN_RECEIVED",
	[TCP_STATE_ESTABLISHED] = "ESTABLISHED",
	[TCP_STATE_FIN_WAIT_1] = "FIN_WAIT_1",
	[TCP_STATE_FIN_WAIT_2] = "FIN_WAIT_2",
	[TCP_STATE_CLOSE_WAIT] = "CLOSE_WAIT",
	[TCP_STATE_CLOSING] = "CLOSING",
	[TCP_STATE_LAST_ACK] = "LAST_ACK",
	[TCP_STATE_TIME_WAIT] = "TIME_WAIT",
};

const char *
tcp_state_name(enum tcp_state s)
{
	return s < TCP_STATE_MAX ? state_names[s] : "?";
}

void
tcp_config_defaults(struct tcp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_conns = 4096;
	cfg->rcv_buf = 256 * 1024;
	cfg->snd_buf = 256 * 1024;
	cfg->snd_buf_max = 4u << 20;
	cfg->rcv_buf_max = 4u << 20;
	cfg->rto_min_ms = 200;
	cfg->rto_init_ms = 1000;
	cfg->rto_max_ms = 60000;
	cfg->syn_retries = 6;
	cfg->synack_retries = 5;
	cfg->syncookies = true;
	cfg->max_retries = 15;
	cfg->orphan_retries = 8;
	cfg->max_orphans = 1024;
	cfg->oow_acks_per_sec = 1000;
	cfg->time_wait_ms = 60000;
	cfg->fin_wait2_ms = 60000;
	cfg->delack_ms = 40;
	cfg->nodelay = true;
	cfg->timestamps = true;
	cfg->window_scaling = true;
	cfg->sack = true;
	cfg->tso = true;
	cfg->tlp = true;
	cfg->frto = true;
	cfg->hystart = true;
	cfg->stretch_acks = true;
	cfg->cc = TCP_CC_CUBIC;
	cfg->keep_idle_ms = 7200000;
	cfg->keep_intvl_ms = 75000;
	cfg->keep_cnt = 9;
	cfg->init_cwnd = 10;
}

/* ---- lists ---- */

void
tcp_link_append(struct tcp_link *head, struct tcp_link *l)
{
	l->prev = head->prev;
	l->next = head;
	head->prev->next = l;
	head->prev = l;
}

void
tcp_link_remove(struct tcp_link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	l->prev = l->next = l;
}

void
tcp_mbuf_list_free(struct rte_mbuf *m)
{
	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		m->next = NULL;
		rte_pktmbuf_free_seg(m);
		m = next;
	}
}

/* ---- the stack's TCP ---- */

/* 16 bytes from the kernel's CSPRNG: rte_rand() is lfsr258, a linear
 * generator whose whole state follows from one 64-bit seed (review L10).
 * rte_rand() only if getrandom() fails (a kernel before 3.17). */
static void
secret(uint8_t key[16])
{
	size_t i;

	if (getrandom(key, 16, 0) == 16)
		return;
	for (i = 0; i < 16; i += 8) {
		uint64_t r = rte_rand();

		memcpy(&key[i], &r, 8);
	}
}

/* The IPv4 layer hands TCP its segments, ICMP errors and bursts' ends
 * through the stack's protocol table (stack.h), ctx the tcp_stack. */
static void
l4_input(void *ctx, struct rte_mbuf *m, uint16_t l3_off, uint16_t ihl, uint16_t ip_len)
{
	tcp_input(ctx, m, l3_off, ihl, ip_len);
}

static void
l4_icmp_error(void *ctx, const void *inner_ip, uint16_t inner_len, int err)
{
	tcp_icmp_error(ctx, inner_ip, inner_len, err);
}

static void
l4_frag_needed(void *ctx, const void *inner_ip, uint16_t inner_len, uint16_t mtu)
{
	tcp_icmp_frag_needed(ctx, inner_ip, inner_len, mtu);
}

static void
l4_rx_burst_end(void *ctx)
{
	tcp_rx_burst_end(ctx);
}

static void
l4_tx_failed(void *ctx, const struct rte_mbuf *m, int err)
{
	tcp_tx_failed(ctx, m, err);
}

static void
l4_tx_resume(void *ctx)
{
	tcp_tsq_resume(ctx);
}

static const struct stack_l4_ops tcp_l4_ops = {
	.name = "tcp",
	.input = l4_input,
	.icmp_error = l4_icmp_error,
	.frag_needed = l4_frag_needed,
	.rx_burst_end = l4_rx_burst_end,
	.tx_failed = l4_tx_failed,
	.tx_resume = l4_tx_resume,
};

RTE_LOG_REGISTER(tcp_logtype, riptide.tcp, NOTICE);

void
tcp_owner_violation(const struct tcp_stack *tcp, const char *what)
{
	/* A caller broke shared nothing: a bug, not input. Debug builds only. */
	TCP_LOG(CRIT,
			"%s on lcore %d: this stack is lcore %u's, and only its own lcore may "
			"touch its connections",
			what, (int)rte_lcore_id(), tcp->owner_lcore);
	abort();
}

/* The first field of cfg that cannot work, said in the log; NULL if none. */
static const char *
tcp_config_bad(const struct tcp_config *cfg, const struct ip_iface *st)
{
	if (cfg->max_conns == 0 || cfg->max_conns > (1u << 24))
		return "max_conns (1..2^24)";
	if (cfg->rcv_buf < 2048 || cfg->rcv_buf > (1u << 30))
		return "rcv_buf (2 KiB..1 GiB)";
	if (cfg->snd_buf < 2048)
		return "snd_buf (at least 2 KiB)";
	if ((cfg->rcv_buf_max != 0 && cfg->rcv_buf_max < cfg->rcv_buf) ||
			cfg->rcv_buf_max > (1u << 30))
		return "rcv_buf_max (0, or rcv_buf..1 GiB)";
	if (cfg->snd_buf_max < cfg->snd_buf || cfg->snd_buf_max > (1u << 30))
		return "snd_buf_max (snd_buf..1 GiB)";
	if (cfg->rto_min_ms == 0)
		return "rto_min_ms (above 0)";
	if (cfg->rto_init_ms < cfg->rto_min_ms || cfg->rto_max_ms < cfg->rto_init_ms)
		return "rto_init_ms / rto_max_ms (rto_min_ms <= rto_init_ms <= rto_max_ms)";
	if (cfg->init_cwnd == 0)
		return "init_cwnd (above 0)";
	if (cfg->delack_ms >= 500)
		return "delack_ms (under 500, RFC 1122)";
	/* Backoff stops doubling at 16: a larger budget would never run out
	 * (review L12). */
	if (cfg->max_retries > 16 || cfg->orphan_retries > 16 || cfg->syn_retries > 16 ||
			cfg->synack_retries > 16)
		return "max_retries / orphan_retries / syn_retries / synack_retries (at most 16)";
	if (cfg->mbuf_budget > st->pool->size || cfg->rx_reserve >= st->pool->size)
		return "mbuf_budget / rx_reserve (within the pool)";
	if (tcp_cc_ops(cfg->cc) == NULL)
		return "cc (TCP_CC_CUBIC or TCP_CC_NEWRENO)";
	return NULL;
}

int
tcp_stack_init(struct tcp_stack *tcp, struct ip_iface *st, const struct tcp_config *cfg)
{
	uint32_t i, buckets = 1;
	const char *bad;
	int rc;

	if (tcp == NULL || st == NULL || cfg == NULL) {
		TCP_LOG(ERR, "tcp_stack_init: %s is NULL",
				tcp == NULL  ? "tcp"
				: st == NULL ? "st"
					     : "cfg");
		return -EINVAL;
	}
	bad = tcp_config_bad(cfg, st);
	if (bad != NULL) {
		TCP_LOG(ERR, "tcp_stack_init: tcp_config.%s", bad);
		return -EINVAL;
	}
	memset(tcp, 0, sizeof(*tcp));
	tcp->st = st;
	tcp->owner_lcore = rte_lcore_id();
	tcp->cfg = *cfg;
	if (tcp->cfg.rcv_buf_max == 0)
		tcp->cfg.rcv_buf_max = cfg->rcv_buf; /* no receive autotuning */
	while (buckets < cfg->max_conns)
		buckets <<= 1;
	rc = stack_l4_register(st, IPPROTO_TCP, &tcp_l4_ops, tcp); /* one TCP per stack */
	if (rc != 0) {
		TCP_LOG(ERR, "tcp_stack_init: %s",
				rc == -EEXIST ? "this stack has a TCP already"
					      : "the stack's protocol table is full");
		return rc;
	}
	tcp->conns = rte_zmalloc_socket("tcp_conns", sizeof(struct tcp_conn) * cfg->max_conns,
			RTE_CACHE_LINE_SIZE, st->pool->socket_id);
	tcp->table = rte_zmalloc_socket("tcp_flows", sizeof(struct tcp_conn *) * buckets,
			RTE_CACHE_LINE_SIZE, st->pool->socket_id);
	{
		/* Big scoreboard tables, taken by senders with many holes
		 * (tcp_recovery.c); one lcore gets and puts. */
		char name[RTE_MEMPOOL_NAMESIZE];
		uint32_t n = cfg->sb_tables != 0 ? cfg->sb_tables : RTE_MIN(cfg->max_conns, 1024u);

		snprintf(name, sizeof(name), "tsb%" PRIxPTR, (uintptr_t)tcp);
		tcp->sb_pool = rte_mempool_create(name, n, TCP_SB_BIG * sizeof(struct tcp_sb_ent),
				0, 0, NULL, NULL, NULL, NULL, st->pool->socket_id,
				RTE_MEMPOOL_F_SP_PUT | RTE_MEMPOOL_F_SC_GET);
	}
	if (tcp->conns == NULL || tcp->table == NULL || tcp->sb_pool == NULL) {
		rte_free(tcp->conns);
		rte_free(tcp->table);
		rte_mempool_free(tcp->sb_pool);
		stack_l4_unregister(st, IPPROTO_TCP, tcp);
		return -ENOMEM;
	}
	tcp->table_mask = buckets - 1;
	for (i = cfg->max_conns; i-- > 0;) {
		tcp->conns[i].hnext = tcp->free_list;
		tcp->free_list = &tcp->conns[i];
	}
	tcp_link_init(&tcp->time_wait);
	tcp_mem_init(tcp);
	tcp->hash_seed = rte_rand() | 1;
	secret(tcp->isn_key);
	secret(tcp->port_key);
	tcp->tx_chains = (st->cfg.tx_offloads & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) != 0;
	tcp->tso_max = tcp_tso_max(cfg, st->cfg.tx_offloads);
	st->tcp = tcp;
	return 0;
}

uint32_t
tcp_tso_max(const struct tcp_config *cfg, uint64_t tx_offloads)
{
	const uint64_t need = RTE_ETH_TX_OFFLOAD_TCP_TSO | RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
			      RTE_ETH_TX_OFFLOAD_MULTI_SEGS;

	return cfg->tso && (tx_offloads & need) == need ? TCP_TSO_MAX : 0;
}

static void
conn_free_queues(struct tcp_conn *c)
{
	tcp_mbuf_list_free(c->sndq_head);
	tcp_mbuf_list_free(c->rcvq_head);
	tcp_mbuf_list_free(c->ooo_head);
	c->sndq_head = c->sndq_tail = c->snd_cur = NULL;
	c->rcvq_head = c->rcvq_tail = c->ooo_head = c->ooo_tail = NULL;
	c->sndq_bytes = c->rcvq_bytes = 0;
	tcp_held(c, &c->sndq_segs, -(int32_t)c->sndq_segs);
	tcp_held(c, &c->rcvq_segs, -(int32_t)c->rcvq_segs);
	tcp_held(c, &c->ooo_segs, -(int32_t)c->ooo_segs);
	tcp_ooo_listed(c);
	tcp_sb_reset(c);
}

void
tcp_stack_fini(struct tcp_stack *tcp)
{
	uint32_t i;

	if (tcp->conns == NULL)
		return;
	for (i = 0; i < tcp->cfg.max_conns; i++) {
		struct tcp_conn *c = &tcp->conns[i];

		if (c->tcp == NULL)
			continue;
		ex_timer_cancel(ex_executor_wheel(tcp->st->ex), &c->timer);
		conn_free_queues(c);
		c->tcp = NULL;
	}
	rte_free(tcp->conns);
	rte_free(tcp->table);
	rte_mempool_free(tcp->sb_pool);
	tcp->sb_pool = NULL;
	tcp->conns = NULL;
	tcp->table = NULL;
	stack_l4_unregister(tcp->st, IPPROTO_TCP, tcp);
	if (tcp->st->tcp == tcp)
		tcp->st->tcp = NULL;
}

uint32_t
tcp_conns_in_use(const struct tcp_stack *tcp)
{
	const struct tcp_conn *c;
	uint32_t n = 0;

	for (c = tcp->free_list; c != NULL; c = c->hnext)
		n++;
	return tcp->cfg.max_conns - n;
}

void
tcp_conns_by_state(const struct tcp_stack *tcp, uint32_t by_state[TCP_STATE_MAX])
{
	uint32_t i;

	memset(by_state, 0, sizeof(uint32_t) * TCP_STATE_MAX);
	for (i = 0; i < tcp->cfg.max_conns; i++)
		if (tcp->conns[i].tcp != NULL && tcp->conns[i].state < TCP_STATE_MAX)
			by_state[tcp->conns[i].state]++;
}

/* ---- the flow table ---- */

static inline uint32_t
flow_bucket(const struct tcp_stack *tcp, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport)
{
	uint64_t k = ((uint64_t)rip << 32 | (uint32_t)rport << 16 | lport) ^ ((uint64_t)lip << 7);

	k *= tcp->hash_seed;
	return (uint32_t)(k >> 32) & tcp->table_mask;
}

struct tcp_conn *
tcp_conn_lookup(const struct tcp_stack *tcp, uint32_t lip, uint16_t lport, uint32_t rip,
		uint16_t rport)
{
	struct tcp_conn *c = tcp->table[flow_bucket(tcp, lip, lport, rip, rport)];

	for (; c != NULL; c = c->hnext)
		if (c->rip == rip && c->rport == rport && c->lport == lport && c->lip == lip)
			return c;
	return NULL;
}

void
tcp_conn_insert(struct tcp_stack *tcp, struct tcp_conn *c)
{
	struct tcp_conn **b = &tcp->table[flow_bucket(tcp, c->lip, c->lport, c->rip, c->rport)];

	c->hnext = *b;
	*b = c;
	c->flags |= TCP_CONN_FLAG_IN_TABLE;
	tcp->stats.conns_live++;
}

static void
conn_unhash(struct tcp_conn *c)
{
	struct tcp_stack *tcp = c->tcp;
	struct tcp_conn **pp;

	if (!(c->flags & TCP_CONN_FLAG_IN_TABLE))
		return;
	for (pp = &tcp->table[flow_bucket(tcp, c->lip, c->lport, c->rip, c->rport)]; *pp != NULL;
			pp = &(*pp)->hnext) {
		if (*pp == c) {
			*pp = c->hnext;
			break;
		}
	}
	c->hnext = NULL;
	c->flags &= ~(uint32_t)TCP_CONN_FLAG_IN_TABLE;
	tcp->stats.conns_live--;
}

/* ---- connections ---- */

static void
conn_unlist(struct tcp_conn *c)
{
	if (!(c->flags & TCP_CONN_FLAG_LISTED))
		return;
	tcp_link_remove(&c->link);
	c->flags &= ~(uint32_t)TCP_CONN_FLAG_LISTED;
	if (c->listener != NULL) {
		if (c->state == TCP_STATE_SYN_RECEIVED)
			c->listener->nsyn--;
		else
			c->listener->nready--;
	}
}

/* Free a connection that nobody holds; nothing may point at it after. */
static void
conn_recycle(struct tcp_conn *c)
{
	struct tcp_stack *tcp = c->tcp;

	conn_unlist(c);
	conn_unhash(c);
	tcp_ack_unlist(c);
	tcp_tsq_unlist(c);
	ex_timer_cancel(ex_executor_wheel(tcp->st->ex), &c->timer);
	conn_free_queues(c);
	if (c->flags & TCP_CONN_FLAG_ORPHAN) {
		c->flags &= ~(uint32_t)TCP_CONN_FLAG_ORPHAN;
		tcp->stats.orphans--;
	}
	c->tcp = NULL;
	c->hnext = tcp->free_list;
	tcp->free_list = c;
}

struct tcp_conn *
tcp_conn_alloc(struct tcp_stack *tcp)
{
	struct tcp_conn *c = tcp->free_list;

	if (c == NULL && !tcp_link_empty(&tcp->time_wait)) {
		/* Full: the oldest TIME_WAIT connection gives its place. */
		c = EX_CONTAINER_OF(tcp->time_wait.next, struct tcp_conn, link);
		tcp->stats.tw_recycled++;
		conn_recycle(c);
		c = tcp->free_list;
	}
	if (c == NULL) {
		tcp->stats.conn_table_full++;
		return NULL;
	}
	tcp->free_list = c->hnext;
	memset(c, 0, sizeof(*c));
	return c;
}

void
tcp_conn_setup(struct tcp_conn *c, struct tcp_stack *tcp, uint32_t lip, uint16_t lport,
		uint32_t rip, uint16_t rport)
{
	const struct tcp_config *cfg = &tcp->cfg;
	uint16_t mtu_mss = (uint16_t)(tcp->st->cfg.mtu - 40);

	c->tcp = tcp;
	c->lip = lip;
	c->lport = lport;
	c->rip = rip;
	c->rport = rport;
	tcp_link_init(&c->link);
	c->iss = tcp_isn(tcp->isn_key, lip, lport, rip, rport, ex_now_ns(tcp->st->ex));
	c->snd_una = c->snd_nxt = c->snd_max = c->recover = c->iss;
	c->snd_end = c->iss + 1; /* the first data byte follows the SYN */
	c->mss = RTE_MIN(TCP_MSS_DEFAULT, mtu_mss);
	c->rcv_mss = TCP_MSS_DEFAULT;
	c->rto_us = cfg->rto_init_ms * 1000;
	c->ssthresh = UINT32_MAX;
	tcp_conn_set_cc(c, cfg->cc);
	tcp_hystart_init(c);
	{
		/* Per pair of hosts, not per connection (as Linux): a new
		 * incarnation of a tuple must show a newer timestamp than the old
		 * one, or the peer's PAWS turns its SYN away from TIME_WAIT. The
		 * offset still hides our clock from other hosts (RFC 7323 7.1). */
		uint32_t hosts[2] = { lip, rip };

		c->ts_offset = (uint32_t)tcp_siphash24(tcp->isn_key, hosts, sizeof(hosts));
	}
	c->rtx_deadline = c->delack_deadline = c->keep_deadline = c->reo_deadline = TCP_NO_DEADLINE;
	ex_timer_init_callback(&c->timer, tcp_timer_fire);
	c->rx_waker = c->tx_waker = ex_waker_noop();
	if (cfg->nodelay)
		c->flags |= TCP_CONN_FLAG_NODELAY;
	if (cfg->keepalive)
		c->flags |= TCP_CONN_FLAG_KEEPALIVE;
	c->user_timeout_ms = cfg->user_timeout_ms;
	/* Our receive window scale: the smallest that lets the largest buffer
	 * autotuning may reach show. */
	c->rcv_buf = cfg->rcv_buf;
	c->snd_buf = cfg->snd_buf;
	c->rcv_wscale = 0;
	while (c->rcv_wscale < TCP_WSCALE_MAX && (cfg->rcv_buf_max >> c->rcv_wscale) > 65535)
		c->rcv_wscale++;
	c->last_rcv_ns = ex_now_coarse_ns(tcp->st->ex);
}

void
tcp_wake_rx(struct tcp_conn *c)
{
	if (c->rx_waiting) {
		c->rx_waiting = false;
		ex_waker_wake(&c->rx_waker);
	}
}

void
tcp_wake_tx(struct tcp_conn *c)
{
	if (c->tx_waiting) {
		c->tx_waiting = false;
		ex_waker_wake(&c->tx_waker);
	}
}

static void
listener_wake(struct tcp_listener *l)
{
	if (l->waiting) {
		l->waiting = false;
		ex_waker_wake(&l->waker);
	}
}

void
tcp_set_state(struct tcp_conn *c, enum tcp_state s)
{
	enum tcp_state old = (enum tcp_state)c->state;
	struct tcp_stack *tcp = c->tcp;

	if (old == s)
		return;
	c->state = (uint8_t)s;
	if ((c->flags & TCP_CONN_FLAG_ORPHAN) &&
			(s == TCP_STATE_TIME_WAIT || s == TCP_STATE_CLOSED)) {
		/* An orphan in TIME_WAIT is only a tuple waiting to be recycled. */
		c->flags &= ~(uint32_t)TCP_CONN_FLAG_ORPHAN;
		tcp->stats.orphans--;
	}
	switch (s) {
	case TCP_STATE_ESTABLISHED:
		tcp->stats.established++;
		if (old == TCP_STATE_SYN_RECEIVED && c->listener != NULL &&
				(c->flags & TCP_CONN_FLAG_LISTED)) {
			/* From the SYN list to the accept queue. */
			struct tcp_listener *l = c->listener;

			tcp_link_remove(&c->link);
			l->nsyn--;
			tcp_link_append(&l->ready, &c->link);
			l->nready++;
			listener_wake(l);
		}
		break;
	case TCP_STATE_TIME_WAIT:
		/* Whoever held a list place (an unaccepted child) stays on its
		 * listener; others join the TIME_WAIT list for recycling. */
		if (!(c->flags & TCP_CONN_FLAG_LISTED) && !(c->flags & TCP_CONN_FLAG_USER)) {
			tcp_link_append(&tcp->time_wait, &c->link);
			c->flags |= TCP_CONN_FLAG_LISTED;
		}
		c->rtx_deadline = c->delack_deadline = c->reo_deadline = TCP_NO_DEADLINE;
		tcp_keep_arm(c, tcp->cfg.time_wait_ms);
		break;
	default:
		break;
	}
	tcp_wake_rx(c);
	tcp_wake_tx(c);
}

void
tcp_conn_terminate(struct tcp_conn *c, int err)
{
	if (c->error == 0)
		c->error = err;
	if (err == -ETIMEDOUT)
		c->tcp->stats.timeouts++;
	conn_unhash(c);
	if (c->listener != NULL && !(c->flags & TCP_CONN_FLAG_USER)) {
		/* A child nobody accepted yet: it simply goes. */
		conn_recycle(c);
		return;
	}
	tcp_set_state(c, TCP_STATE_CLOSED);
	conn_unlist(c);
	tcp_ack_unlist(c); /* closed: owes no ACK */
	tcp_tsq_unlist(c); /* and sends nothing more */
	ex_timer_cancel(ex_executor_wheel(c->tcp->st->ex), &c->timer);
	c->rtx_deadline = c->delack_deadline = c->keep_deadline = c->reo_deadline = TCP_NO_DEADLINE;
	/* What was to be sent, and out-of-order data, are lost. In-order data
	 * the reader has yet to read stays readable, as in Linux, and the error
	 * comes after it (review M4): a reset after a FIN is not a clean end,
	 * and bytes that arrived are not thrown away behind the reader's back.
	 * The application frees them by reading or closing. */
	tcp_mbuf_list_free(c->sndq_head);
	tcp_mbuf_list_free(c->ooo_head);
	c->sndq_head = c->sndq_tail = c->snd_cur = c->ooo_head = c->ooo_tail = NULL;
	c->nsack = 0;
	c->sndq_bytes = 0;
	tcp_sb_reset(c); /* nothing will be sent again */
	tcp_held(c, &c->sndq_segs, -(int32_t)c->sndq_segs);
	tcp_held(c, &c->ooo_segs, -(int32_t)c->ooo_segs);
	tcp_ooo_listed(c);
	if (!(c->flags & TCP_CONN_FLAG_USER))
		conn_recycle(c);
}

void
tcp_conn_release(struct tcp_conn *c)
{
	conn_recycle(c);
}

/* ---- listeners ---- */

static inline uint32_t
listen_bucket(uint16_t port)
{
	return (port * 2654435761u) >> 26 & (TCP_LISTEN_BUCKETS - 1);
}

struct tcp_listener *
tcp_listener_lookup(const struct tcp_stack *tcp, uint32_t ip, uint16_t port)
{
	struct tcp_listener *l;

	for (l = tcp->listeners[listen_bucket(port)]; l != NULL; l = l->next)
		if (l->port == port && (l->ip == 0 || l->ip == ip))
			return l;
	return NULL;
}

int
tcp_listen(struct tcp_listener *l, struct tcp_stack *tcp, uint32_t ip, uint16_t port,
		uint16_t backlog)
{
	if (l == NULL || tcp == NULL || port == 0 || backlog == 0) {
		TCP_LOG(ERR, "tcp_listen: %s",
				l == NULL     ? "l is NULL"
				: tcp == NULL ? "tcp is NULL"
				: port == 0   ? "port 0"
					      : "backlog 0");
		return -EINVAL;
	}
	tcp_owner_check(tcp, "tcp_listen");
	if (ip != 0 && !stack_ip_local(tcp->st, ip)) {
		TCP_LOG(ERR, "tcp_listen: %u.%u.%u.%u is not one of the stack's addresses",
				ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
		return -EADDRNOTAVAIL;
	}
	if (tcp_listener_lookup(tcp, ip, port) != NULL) {
		TCP_LOG(ERR, "tcp_listen: port %u already has a listener", port);
		return -EADDRINUSE;
	}
	memset(l, 0, sizeof(*l));
	l->tcp = tcp;
	l->ip = ip;
	l->port = port;
	l->backlog = backlog;
	tcp_link_init(&l->syn);
	tcp_link_init(&l->ready);
	l->waker = ex_waker_noop();
	l->open = true;
	l->next = tcp->listeners[listen_bucket(port)];
	tcp->listeners[listen_bucket(port)] = l;
	return 0;
}

void
tcp_listener_close(struct tcp_listener *l)
{
	struct tcp_listener **pp;

	if (!l->open)
		return;
	tcp_owner_check(l->tcp, "tcp_listener_close");
	for (pp = &l->tcp->listeners[listen_bucket(l->port)]; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	}
	l->open = false;
	/* Children nobody accepted: reset (RFC 9293 3.10.4, ABORT). */
	while (!tcp_link_empty(&l->ready)) {
		struct tcp_conn *c = EX_CONTAINER_OF(l->ready.next, struct tcp_conn, link);

		if (c->state != TCP_STATE_CLOSED && c->state != TCP_STATE_TIME_WAIT)
			tcp_send_rst(c);
		conn_recycle(c);
	}
	while (!tcp_link_empty(&l->syn)) {
		struct tcp_conn *c = EX_CONTAINER_OF(l->syn.next, struct tcp_conn, link);

		tcp_send_rst(c);
		conn_recycle(c);
	}
	listener_wake(l);
}

/* Take the oldest established child; NULL if none. */
struct tcp_conn *
tcp_listener_take(struct tcp_listener *l)
{
	struct tcp_conn *c;

	if (tcp_link_empty(&l->ready))
		return NULL;
	c = EX_CONTAINER_OF(l->ready.next, struct tcp_conn, link);
	conn_unlist(c);
	c->listener = NULL;
	c->flags |= TCP_CONN_FLAG_USER;
	l->accepted++;
	return c;
}

/* ---- active open helpers ---- */

#define EPHEMERAL_LO 32768u /* Linux's default range */
#define EPHEMERAL_HI 60999u

/* RFC 6056 algorithm 4 (double-hash), as Linux: a keyed hash of the
 * destination gives where its search starts, plus a counter from a small
 * table indexed by a second hash. Ports to one destination follow each other;
 * an observed port says nothing about the ports of other destinations (the
 * xorshift start it replaced leaked its state, review L10). */
int
tcp_pick_port(struct tcp_stack *tcp, uint32_t rip, uint16_t rport, uint16_t *out)
{
	const uint32_t range = EPHEMERAL_HI - EPHEMERAL_LO + 1;
	uint32_t lip = tcp->st->cfg.ip, start, i;
	const struct dp_port *rp = tcp->cfg.rss_port;
	uint8_t dst[10];
	uint64_t h;
	uint16_t *next;
	struct tcp_conn *c;

	tcp_owner_check(tcp, "an active open");
	memcpy(dst, &lip, 4);
	memcpy(dst + 4, &rip, 4);
	memcpy(dst + 8, &rport, 2);
	h = tcp_siphash24(tcp->port_key, dst, sizeof(dst));
	next = &tcp->port_next[(h >> 32) % RTE_DIM(tcp->port_next)];
	start = (uint32_t)h + *next;
	for (i = 0; i < range; i++) {
		uint16_t p = (uint16_t)(EPHEMERAL_LO + (start + i) % range);

		(*next)++;

		if (rp != NULL && rp->nb_queues > 1 &&
				dp_rss_queue(rp, rip, lip, rport, p) != tcp->cfg.rss_queue)
			continue;
		if (tcp_listener_lookup(tcp, lip, p) != NULL)
			continue;
		c = tcp_conn_lookup(tcp, lip, p, rip, rport);
		if (c != NULL && c->state == TCP_STATE_TIME_WAIT && (c->flags & TCP_CONN_FLAG_TS) &&
				!(c->flags & TCP_CONN_FLAG_USER)) {
			/* A tuple of ours in TIME_WAIT, with timestamps: the peer's
			 * PAWS tells the incarnations apart (RFC 6191), so the port
			 * may serve again, as Linux's tcp_tw_reuse allows. */
			tcp->stats.tw_reused++;
			tcp_conn_terminate(c, 0);
			c = NULL;
		}
		if (c == NULL) {
			*out = p;
			return 0;
		}
	}
	return -EADDRNOTAVAIL;
}

/* ---- small accessors ---- */

int
tcp_conn_error(const struct tcp_conn *c)
{
	return c->error;
}

enum tcp_state
tcp_conn_state(const struct tcp_conn *c)
{
	return (enum tcp_state)c->state;
}

void
tcp_set_nodelay(struct tcp_conn *c, bool nodelay)
{
	if (nodelay)
		c->flags |= TCP_CONN_FLAG_NODELAY;
	else
		c->flags &= ~(uint32_t)TCP_CONN_FLAG_NODELAY;
	tcp_output(c);
}

void
tcp_set_keepalive(struct tcp_conn *c, bool on)
{
	if (on) {
		c->flags |= TCP_CONN_FLAG_KEEPALIVE;
		if (c->state == TCP_STATE_ESTABLISHED)
			tcp_keep_arm(c, c->tcp->cfg.keep_idle_ms);
	} else {
		c->flags &= ~(uint32_t)TCP_CONN_FLAG_KEEPALIVE;
	}
}

void
tcp_set_user_timeout(struct tcp_conn *c, uint32_t ms)
{
	c->user_timeout_ms = ms;
}

void
tcp_conn_addr(const struct tcp_conn *c, uint32_t *lip, uint16_t *lport, uint32_t *rip,
		uint16_t *rport)
{
	*lip = c->lip;
	*lport = c->lport;
	*rip = c->rip;
	*rport = c->rport;
}
