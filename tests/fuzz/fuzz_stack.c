/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_stack.c - libFuzzer harness for tcpstack/: one stack instance with
 * TCP, a listener and an application, driven by a script read from the
 * input. Each step is one of: a TCP segment from the peer built from fuzzed
 * fields (flags, sequence and acknowledgment numbers near the ones in play,
 * window, options, payload, sometimes a wrong checksum), a raw IPv4 or
 * Ethernet frame, an ICMP error quoting a connection, a clock step, or an
 * application call (accept, connect, write, send an mbuf, read, shutdown,
 * close, abort). Some inputs make the stack instance 1, 2 or 3 of a cluster
 * (tcp_stack_cluster), its frames coming from a peer instance or not at
 * each step; nothing is ever handed to itself, and what is handed on is
 * freed. After every step the connections' invariants are checked
 * (sequence space order, queue byte counts, the out-of-order queue sorted
 * with its tail right); after the input the stack is torn down and every
 * mbuf and timer must be back. A violation aborts, which libFuzzer reports.
 *
 *   scripts/fuzz.sh stack 600        # a long run (tests/fuzz/README.md)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_arp.h>
#include <rte_eal.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "ex_executor.h"
#include "stack.h"
#include "tcp.h"
#include "tcp_priv.h"
#include "tcp_seg.h"

#define OUR_IP 0xc6120001u /* 198.18.0.1 (RTE_IPV4 shifts an int: UB for 198) */
#define PEER_IP 0xc6120002u /* 198.18.0.2 */
#define LPORT 80
#define NPORTS 4 /* the peer's ports */
#define NHELD 8 /* connections the application holds */

static const struct rte_ether_addr our_mac = { { 0x02, 0, 0, 0, 0, 0x01 } };
static const struct rte_ether_addr peer_mac = { { 0x02, 0, 0, 0, 0, 0x02 } };

static struct ex_executor *ex;
static struct rte_mempool *pool;
static uint64_t clock_now = EX_NS_PER_S;

#include "fuzz_check.h"

/* ---- the input, read a little at a time; zeros once it runs out ---- */

struct reader {
	const uint8_t *p;
	size_t n;
};

static uint8_t
u8(struct reader *r)
{
	if (r->n == 0)
		return 0;
	r->n--;
	return *r->p++;
}

static uint16_t
u16(struct reader *r)
{
	return (uint16_t)(u8(r) | u8(r) << 8);
}

static uint32_t
u32(struct reader *r)
{
	return (uint32_t)u16(r) | (uint32_t)u16(r) << 16;
}

/* ---- what the peer knows: the last segment we sent to each of its ports ---- */

struct peer_port {
	bool seen;
	uint32_t our_seq_end; /* seq + len (+ SYN/FIN) of our last segment */
	uint32_t our_ack; /* what we acknowledged: the peer's next sequence */
	uint32_t our_tsval;
};

static struct peer_port peer[NPORTS];
static uint32_t peer_ts = 1000;
/* RIPTIDE_FUZZ_TRACE=1: each step and each connection after it on stderr,
 * to read what a finding did (tests/fuzz/README.md). */
static bool trace;

/* The stack's output: parsed for the peer's model, then freed. */
static enum ex_poll
out_ready(struct ex_sink *s, struct ex_context *cx)
{
	(void)s;
	(void)cx;
	return EX_READY;
}

static void
learn(const struct rte_mbuf *m)
{
	uint8_t buf[1600];
	const uint8_t *p;
	const struct rte_ipv4_hdr *ip;
	struct tcp_seg seg;
	uint32_t len = rte_pktmbuf_pkt_len(m), iplen;
	uint16_t dport;

	if (len < 14 + 20 + 20 || len > sizeof(buf))
		return;
	p = rte_pktmbuf_read(m, 0, len, buf);
	CHECK(p != NULL);
	if (((const struct rte_ether_hdr *)p)->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
		return;
	ip = (const struct rte_ipv4_hdr *)(p + 14);
	CHECK(ip->time_to_live != 0); /* RFC 1122: never sent with TTL 0 */
	if (ip->next_proto_id != IPPROTO_TCP)
		return;
	iplen = rte_be_to_cpu_16(ip->total_length);
	CHECK(iplen >= 40 && iplen <= len - 14);
	CHECK(iplen <= 1500); /* the stack's MTU: options (SACK) never push past it */
	CHECK(tcp_seg_parse(p + 34, iplen - 20, &seg) == TCP_PARSE_OK);
	dport = seg.dport;
	if (dport < 1000 || dport >= 1000 + NPORTS)
		return;
	peer[dport - 1000].seen = true;
	peer[dport - 1000].our_seq_end = seg.seq + seg.len + !!(seg.flags & TCP_FLAG_SYN) +
					 !!(seg.flags & TCP_FLAG_FIN);
	if (seg.flags & TCP_FLAG_ACK)
		peer[dport - 1000].our_ack = seg.ack;
	if (seg.opts.has_ts)
		peer[dport - 1000].our_tsval = seg.opts.tsval;
}

static int
out_send(struct ex_sink *s, union ex_item item)
{
	struct dp_burst *b = item.ptr;
	uint16_t i;

	(void)s;
	for (i = 0; i < b->n; i++) {
		learn(b->pkts[i]);
		rte_pktmbuf_free(b->pkts[i]);
	}
	b->n = 0;
	return 0;
}

static const struct ex_sink_ops out_ops = { out_ready, out_send, out_ready, out_ready, "fuzz" };
static struct ex_sink out_sink = { &out_ops, 0 };

/* ---- a cluster of three, when the input says so ---- */

static uint8_t cluster_us; /* our id, 0: no cluster */
static bool via_peer; /* this step's frames come from a peer instance */

static int
fuzz_forward(void *ctx, struct rte_mbuf *m, uint16_t l3_off, uint8_t owner)
{
	(void)ctx;
	CHECK(owner != cluster_us && l3_off == sizeof(struct rte_ether_hdr));
	rte_pktmbuf_free(m);
	return owner >= 1 && owner <= 3 ? 0 : -ENOENT;
}

static bool
fuzz_from_peer(void *ctx, const struct rte_mbuf *m)
{
	(void)ctx;
	(void)m;
	return via_peer;
}

static const struct tcp_cluster_ops fuzz_cluster = { fuzz_forward, fuzz_from_peer };

/* ---- building what the peer sends ---- */

static void
input(struct ip_iface *st, const uint8_t *f, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	if (m == NULL)
		return;
	if (len > rte_pktmbuf_tailroom(m))
		len = rte_pktmbuf_tailroom(m);
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), f, len);
	stack_input(st, m);
}

static size_t
eth_ip(uint8_t *f, uint8_t proto, uint16_t l4len, uint8_t ttl)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)f;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);

	eh->dst_addr = our_mac;
	eh->src_addr = peer_mac;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + l4len));
	ip->time_to_live = ttl;
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(PEER_IP);
	ip->dst_addr = rte_cpu_to_be_32(OUR_IP);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return 34;
}

/* A segment from peer port i: fields near the ones in play, or anywhere. */
static void
peer_segment(struct ip_iface *st, struct reader *r)
{
	uint8_t f[14 + 20 + 60 + 1500];
	uint8_t ctl = u8(r), optbits = u8(r), i = ctl & (NPORTS - 1);
	struct peer_port *pp = &peer[i];
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(f + 34);
	uint8_t *o = (uint8_t *)(th + 1);
	uint32_t seq, ack, olen = 0, plen;
	int16_t dseq = (int16_t)u16(r), dack = (int16_t)u16(r);

	/* sequence: the peer's next (what we acknowledged) + a small delta,
	 * or any value (1 in 8) */
	seq = (ctl & 0x1c) == 0 ? u32(r) : pp->our_ack + (uint32_t)(int32_t)dseq;
	ack = (ctl & 0xe0) == 0 ? u32(r) : pp->our_seq_end + (uint32_t)(int32_t)dack;
	memset(th, 0, sizeof(*th));
	th->src_port = rte_cpu_to_be_16((uint16_t)(1000 + i));
	th->dst_port = rte_cpu_to_be_16((optbits & 0x80) ? u16(r) : LPORT);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(ack);
	th->tcp_flags = u8(r);
	th->rx_win = rte_cpu_to_be_16(u16(r));
	if (optbits & 0x01) { /* MSS */
		uint16_t mss = u16(r);

		o[olen++] = 2;
		o[olen++] = 4;
		o[olen++] = (uint8_t)(mss >> 8);
		o[olen++] = (uint8_t)mss;
	}
	if (optbits & 0x02) { /* window scale */
		o[olen++] = 3;
		o[olen++] = 3;
		o[olen++] = u8(r) & 0x1f;
	}
	if (optbits & 0x04) { /* SACK permitted */
		o[olen++] = 4;
		o[olen++] = 2;
	}
	if (optbits & 0x08) { /* timestamps: ours echoed, the peer's clock moving */
		uint32_t tsval = (optbits & 0x40) ? u32(r) : (peer_ts += u8(r));

		o[olen++] = 8;
		o[olen++] = 10;
		o[olen++] = (uint8_t)(tsval >> 24);
		o[olen++] = (uint8_t)(tsval >> 16);
		o[olen++] = (uint8_t)(tsval >> 8);
		o[olen++] = (uint8_t)tsval;
		memcpy(o + olen, &(uint32_t){ rte_cpu_to_be_32(pp->our_tsval) }, 4);
		olen += 4;
	}
	if (optbits & 0x10) { /* raw option bytes */
		uint8_t k = u8(r) % 12, j;

		for (j = 0; j < k; j++)
			o[olen++] = u8(r);
	}
	while (olen % 4)
		o[olen++] = 1; /* NOP */
	th->data_off = (uint8_t)(((20 + olen) / 4) << 4);
	plen = u16(r) % 1461;
	for (uint32_t k = 0; k < plen; k++)
		o[olen + k] = (uint8_t)(seq + k);
	eth_ip(f, IPPROTO_TCP, (uint16_t)(20 + olen + plen), 64);
	th->cksum = rte_ipv4_udptcp_cksum((struct rte_ipv4_hdr *)(f + 14), th);
	if (optbits & 0x20 && (ctl & 3) == 0)
		th->cksum ^= 0x1234; /* sometimes wrong */
	if (trace)
		fprintf(stderr, "  peer %u: flags 0x%02x seq %u ack %u wnd %u len %u opts 0x%02x\n",
				1000 + i, th->tcp_flags, seq, ack, rte_be_to_cpu_16(th->rx_win),
				plen, optbits);
	input(st, f, 34 + 20 + olen + plen);
}

/* An ICMP error from the peer quoting a segment of ours to port i. */
static void
peer_icmp(struct ip_iface *st, struct reader *r)
{
	uint8_t f[14 + 20 + 8 + 20 + 8];
	uint8_t i = u8(r) & (NPORTS - 1);
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)(f + 34);
	struct rte_ipv4_hdr *iip = (struct rte_ipv4_hdr *)(ic + 1);
	uint8_t *ith = (uint8_t *)(iip + 1);
	uint32_t seq = peer[i].our_seq_end - (u8(r) % 4 == 0 ? 0 : u16(r));

	eth_ip(f, IPPROTO_ICMP, sizeof(f) - 34, 64);
	memset(ic, 0, sizeof(*ic));
	ic->icmp_type = (u8(r) & 1) ? 3 : u8(r);
	ic->icmp_code = u8(r) % 16;
	ic->icmp_seq_nb = rte_cpu_to_be_16(u16(r));
	memset(iip, 0, sizeof(*iip));
	iip->version_ihl = RTE_IPV4_VHL_DEF;
	iip->total_length = rte_cpu_to_be_16(u16(r));
	iip->next_proto_id = IPPROTO_TCP;
	iip->src_addr = rte_cpu_to_be_32(OUR_IP);
	iip->dst_addr = rte_cpu_to_be_32(PEER_IP);
	ith[0] = LPORT >> 8;
	ith[1] = LPORT & 0xff;
	ith[2] = (uint8_t)((1000 + i) >> 8);
	ith[3] = (uint8_t)(1000 + i);
	ith[4] = (uint8_t)(seq >> 24);
	ith[5] = (uint8_t)(seq >> 16);
	ith[6] = (uint8_t)(seq >> 8);
	ith[7] = (uint8_t)seq;
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, sizeof(f) - 34);
	input(st, f, sizeof(f));
}

/* Up to 200 raw bytes after an Ethernet header, or after Ethernet and a
 * valid IPv4 header with a fuzzed protocol and TTL. */
static void
raw_frame(struct ip_iface *st, struct reader *r)
{
	uint8_t f[14 + 20 + 200];
	uint8_t mode = u8(r), n = u8(r) % 200, j;
	size_t off;

	if (mode & 1) {
		off = eth_ip(f, u8(r), n, u8(r));
	} else {
		eth_ip(f, 0, 0, 64);
		off = 14;
		if (mode & 2) /* an ARP frame */
			((struct rte_ether_hdr *)f)->ether_type =
					rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	}
	for (j = 0; j < n; j++)
		f[off + j] = u8(r);
	input(st, f, off + n);
}

/* ---- the invariants of every live connection ---- */

static void
check_conn(const struct tcp_conn *c)
{
	const struct rte_mbuf *m, *last = NULL;
	uint32_t bytes = 0, n = 0, k;

	CHECK(c->state < TCP_STATE_MAX);
	if (c->state == TCP_STATE_CLOSED || c->state == TCP_STATE_LISTEN)
		return;
	CHECK(tcp_seq_leq(c->snd_una, c->snd_nxt));
	CHECK(tcp_seq_leq(c->snd_nxt, c->snd_max));
	CHECK(tcp_seq_leq(c->snd_max, c->snd_end + 1)); /* + the FIN */
	if (c->state >= TCP_STATE_ESTABLISHED) /* set by the handshake */
		CHECK(c->mss >= 64 && c->cwnd >= c->mss);
	/* The scoreboard covers SND.UNA..SND.MAX in order, without gaps, and
	 * its counters are the sums of its marks. */
	{
		uint32_t sacked = 0, lost = 0, i;

		const struct tcp_sb_ent *sb = tcp_sb_const(c);

		CHECK(c->sb_n <= tcp_sb_cap(c));
		CHECK(c->sb_big == NULL || c->sb_n != 0); /* given back when empty */
		for (i = 0; i < c->sb_n; i++) {
			const struct tcp_sb_ent *e = &sb[i];

			CHECK(tcp_seq_lt(e->left, e->right));
			CHECK(i == 0 ? e->left == c->snd_una : e->left == sb[i - 1].right);
			CHECK(!((e->flags & TCP_SB_SACKED) && (e->flags & TCP_SB_LOST)));
			if (e->flags & TCP_SB_SACKED)
				sacked += e->right - e->left;
			if (e->flags & TCP_SB_LOST)
				lost += e->right - e->left;
		}
		if (c->sb_n != 0)
			CHECK(sb[c->sb_n - 1].right == c->snd_max);
		CHECK(sacked == c->sb_sacked && lost == c->sb_lost);
		CHECK(sacked + lost <= c->snd_max - c->snd_una);
	}
	for (m = c->sndq_head; m != NULL; m = m->next) {
		bytes += m->data_len;
		CHECK(m->nb_segs == 1 && m->pkt_len == m->data_len);
		last = m;
	}
	CHECK(bytes == c->sndq_bytes);
	CHECK(last == c->sndq_tail);
	bytes = 0;
	last = NULL;
	for (m = c->rcvq_head; m != NULL; m = m->next, n++) {
		bytes += m->data_len;
		last = m;
	}
	CHECK(bytes == c->rcvq_bytes);
	CHECK(last == c->rcvq_tail);
	last = NULL;
	n = 0;
	for (m = c->ooo_head; m != NULL; m = m->next, n++) {
		CHECK(m->data_len > 0);
		CHECK(tcp_seq_gt(m->hash.usr, c->rcv_nxt));
		if (last != NULL)
			CHECK(tcp_seq_leq(last->hash.usr + last->data_len, m->hash.usr));
		last = m;
	}
	CHECK(last == c->ooo_tail);
	CHECK(n == c->ooo_segs);
	CHECK(n <= tcp_ooo_max(c));
	/* Autotuned buffers stay within their configured range. */
	CHECK(c->rcv_buf >= c->tcp->cfg.rcv_buf && c->rcv_buf <= c->tcp->cfg.rcv_buf_max);
	CHECK(c->snd_buf >= c->tcp->cfg.snd_buf && c->snd_buf <= c->tcp->cfg.snd_buf_max);
	/* SACK blocks report only what is held out of order, every byte. */
	CHECK(c->nsack <= TCP_SACK_MAX);
	CHECK(c->nsack == 0 || (c->flags & TCP_CONN_FLAG_SACK));
	for (k = 0; k < c->nsack; k++) {
		uint32_t at = c->sack[k].left;

		CHECK(tcp_seq_lt(c->sack[k].left, c->sack[k].right));
		for (m = c->ooo_head; m != NULL && tcp_seq_lt(at, c->sack[k].right); m = m->next)
			if (tcp_seq_leq(m->hash.usr, at) &&
					tcp_seq_lt(at, m->hash.usr + m->data_len))
				at = m->hash.usr + m->data_len;
		CHECK(tcp_seq_geq(at, c->sack[k].right));
	}
}

/* The length of a queue, which must be its count. */
static uint64_t
queue_count(const struct rte_mbuf *m, uint32_t segs)
{
	uint32_t n = 0;

	for (; m != NULL; m = m->next)
		n++;
	CHECK(n == segs);
	return n;
}

static void
check_all(const struct tcp_stack *tcp)
{
	uint32_t i, orphans = 0, holding = 0;
	uint64_t held = 0;

	for (i = 0; i < tcp->cfg.max_conns; i++) {
		const struct tcp_conn *c = &tcp->conns[i];

		if (c->tcp == NULL)
			continue;
		check_conn(c);
		orphans += !!(c->flags & TCP_CONN_FLAG_ORPHAN);
		held += queue_count(c->rcvq_head, c->rcvq_segs) +
			queue_count(c->ooo_head, c->ooo_segs) +
			queue_count(c->sndq_head, c->sndq_segs);
		holding += tcp_conn_held(c) != 0;
		/* on the pruning list exactly while it holds out-of-order data */
		CHECK((c->ooo_head != NULL) ==
				(c->ooo_link.next != NULL && c->ooo_link.next != &c->ooo_link));
		/* owed an ACK at the burst's end exactly while on that list */
		CHECK(!!(c->flags & TCP_CONN_FLAG_ACK_BURST) ==
				(c->ack_link.next != NULL && c->ack_link.next != &c->ack_link));
	}
	/* and nothing else is on it (a recycled connection would be used
	 * after its end) */
	for (const struct tcp_link *l = tcp->ack_conns.next; l != &tcp->ack_conns; l = l->next)
		CHECK(EX_CONTAINER_OF(l, struct tcp_conn, ack_link)->tcp != NULL);
	CHECK(orphans == tcp->stats.orphans);
	CHECK(held == tcp->stats.mbufs_held);
	CHECK(holding == tcp->conns_holding);
}

/* ---- the run ---- */

static uint64_t
fuzz_clock(void *ctx)
{
	(void)ctx;
	return clock_now;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char prefix[64];
	char *eal[] = { (*argv)[0], "-l", "0", "--no-huge", "-m", "256", "--no-pci",
		"--no-telemetry", "--log-level", "1", "--no-shconf", prefix, NULL };
	struct ex_config cfg;

	(void)argc;
	trace = getenv("RIPTIDE_FUZZ_TRACE") != NULL;
	snprintf(prefix, sizeof(prefix), "--file-prefix=rtfuzz%d", (int)getpid());
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0) {
		fprintf(stderr, "fuzz_stack: EAL init failed\n");
		exit(1);
	}
	pool = rte_pktmbuf_pool_create(
			"fuzz", 2047, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	ex_config_defaults(&cfg);
	cfg.name = "fuzz";
	cfg.clock = fuzz_clock;
	/* 65 us ticks: the stack's deadlines are in ms, and the wheel's walk
	 * through simulated minutes costs 64 times less than with 1 us ticks. */
	cfg.tick_shift = 16;
	ex = ex_executor_create(rte_lcore_id(), &cfg);
	if (pool == NULL || ex == NULL) {
		fprintf(stderr, "fuzz_stack: pool or executor\n");
		exit(1);
	}
	ex_run_once(ex);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t steps_ns[] = { 0, EX_NS_PER_MS, 10 * EX_NS_PER_MS, 40 * EX_NS_PER_MS,
		200 * EX_NS_PER_MS, EX_NS_PER_S, 3 * EX_NS_PER_S, 61 * EX_NS_PER_S };
	struct reader r = { data, size };
	struct ip_iface st;
	struct stack_config scfg;
	struct tcp_stack tcp;
	struct tcp_config tcfg;
	struct tcp_listener lst;
	struct tcp_conn *held[NHELD] = { 0 };
	struct tcp_connect k;
	struct ex_context cx = { ex_waker_noop() };
	static uint8_t wbuf[70000];
	bool connecting = false, listening;
	unsigned int steps = 0, i;

	memset(peer, 0, sizeof(peer));
	stack_config_defaults(&scfg);
	scfg.ip = OUR_IP;
	scfg.prefix_len = 24;
	scfg.mac = our_mac;
	CHECK(stack_init(&st, &scfg, ex, pool, &out_sink) == 0);
	tcp_config_defaults(&tcfg);
	tcfg.max_conns = 16;
	i = u8(&r);
	tcfg.rcv_buf = 8192 + (i % 4) * 30000;
	/* a budget small enough for a few inputs' segments to hit it */
	tcfg.mbuf_budget = (i & 0x10) ? 24 : 0;
	tcfg.snd_buf = 4096 + (u8(&r) % 4) * 30000;
	tcfg.nodelay = u8(&r) & 1;
	tcfg.keepalive = u8(&r) & 1;
	tcfg.keep_idle_ms = 5000;
	tcfg.keep_intvl_ms = 1000;
	tcfg.max_orphans = 4;
	CHECK(tcp_stack_init(&tcp, &st, &tcfg) == 0);
	cluster_us = (i & 0x20) ? (uint8_t)(1 + (i >> 6) % 3) : 0;
	if (cluster_us != 0)
		CHECK(tcp_stack_cluster(&tcp, cluster_us, 3, &fuzz_cluster, NULL) == 0);
	via_peer = false;
	CHECK(tcp_listen(&lst, &tcp, 0, LPORT, 4) == 0);
	listening = true;
	{ /* the peer's ARP request: its address is known */
		uint8_t f[14 + sizeof(struct rte_arp_hdr)];
		struct rte_arp_hdr *a = (struct rte_arp_hdr *)(f + 14);

		eth_ip(f, 0, 0, 64);
		((struct rte_ether_hdr *)f)->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
		memset(&((struct rte_ether_hdr *)f)->dst_addr, 0xff, 6);
		memset(a, 0, sizeof(*a));
		a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
		a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		a->arp_hlen = 6;
		a->arp_plen = 4;
		a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
		a->arp_data.arp_sha = peer_mac;
		a->arp_data.arp_sip = rte_cpu_to_be_32(PEER_IP);
		a->arp_data.arp_tip = rte_cpu_to_be_32(OUR_IP);
		input(&st, f, sizeof(f));
	}
	while (r.n > 0 && steps++ < 512) {
		uint8_t op = u8(&r), h = u8(&r) % NHELD;
		struct tcp_conn *c = held[h];

		via_peer = (op & 0x10) != 0;
		switch (op % 16) {
		case 0:
		case 1:
		case 2:
		case 3:
		case 4:
			peer_segment(&st, &r);
			break;
		case 5:
			raw_frame(&st, &r);
			break;
		case 6:
			peer_icmp(&st, &r);
			break;
		case 7:
			clock_now += steps_ns[u8(&r) % RTE_DIM(steps_ns)];
			break;
		case 8: { /* accept */
			struct tcp_accept a;

			if (c != NULL || !listening)
				break;
			tcp_accept_init(&a, &lst);
			if (ex_future_poll(&a.base, &cx) == EX_READY) {
				if (a.base.result == 0)
					held[h] = a.conn;
			} else {
				ex_future_drop(&a.base);
			}
			break;
		}
		case 9: /* connect, polled at every step until done */
			if (!connecting) {
				tcp_connect_init(&k, &tcp, PEER_IP,
						(uint16_t)(1000 + (op >> 4) % NPORTS));
				connecting = true;
			}
			break;
		case 10: { /* write */
			struct tcp_write w;
			uint32_t n = u16(&r) % sizeof(wbuf);

			if (c == NULL)
				break;
			tcp_write_init(&w, c, wbuf, n);
			if (ex_future_poll(&w.base, &cx) == EX_PENDING)
				ex_future_drop(&w.base);
			else
				CHECK(w.base.result < 0 || (uint32_t)w.base.result == w.done);
			break;
		}
		case 11: { /* send an mbuf */
			struct rte_mbuf *m;

			if (c == NULL || (m = rte_pktmbuf_alloc(pool)) == NULL)
				break;
			rte_pktmbuf_append(m, (uint16_t)(1 + u16(&r) % 2000));
			if (tcp_send_mbuf(c, m) != 0)
				rte_pktmbuf_free(m);
			break;
		}
		case 12: { /* read */
			struct tcp_recv rv;

			if (c == NULL)
				break;
			tcp_recv_init(&rv, c, u16(&r));
			if (ex_future_poll(&rv.base, &cx) == EX_PENDING)
				ex_future_drop(&rv.base);
			else if (rv.base.result > 0)
				rte_pktmbuf_free(rv.m);
			break;
		}
		case 13:
			if (c != NULL)
				(void)tcp_shutdown(c);
			break;
		case 14:
			if (c != NULL) {
				tcp_close(c);
				held[h] = NULL;
			}
			break;
		case 15:
			if (c != NULL && (op & 0x80)) {
				tcp_abort(c);
				held[h] = NULL;
			} else if (listening && (op & 0x40)) {
				tcp_listener_close(&lst);
				listening = false;
			}
			break;
		}
		if (connecting) {
			if (ex_future_poll(&k.base, &cx) == EX_READY) {
				connecting = false;
				for (i = 0; i < NHELD && k.base.result == 0; i++)
					if (held[i] == NULL) {
						held[i] = k.conn;
						break;
					}
				if (i == NHELD && k.base.result == 0)
					tcp_abort(k.conn);
			}
		}
		/* An rx burst ends now and then: held ACKs span several inputs
		 * and whatever happens between them (a reset, a close). */
		if ((op & 0x20) || steps % 4 == 0)
			stack_rx_burst_end(&st);
		ex_run_once(ex); /* timers */
		if (trace) {
			fprintf(stderr, "step %u op %u conn %u\n", steps, op % 16, h);
			for (i = 0; i < tcp.cfg.max_conns; i++) {
				const struct tcp_conn *t = &tcp.conns[i];

				if (t->tcp == NULL || t->state == TCP_STATE_CLOSED)
					continue;
				fprintf(stderr,
						"  conn %u :%u state %s rcv_nxt %u rcv_adv %u "
						"rcvq %u ooo %u [%u..%u) snd_una %u nxt %u\n",
						i, t->rport,
						tcp_state_name((enum tcp_state)t->state),
						t->rcv_nxt, t->rcv_adv, t->rcvq_bytes, t->ooo_segs,
						t->ooo_head ? (uint32_t)t->ooo_head->hash.usr : 0,
						t->ooo_tail ? (uint32_t)(t->ooo_tail->hash.usr +
									      t->ooo_tail->data_len)
							    : 0,
						t->snd_una, t->snd_nxt);
			}
		}
		check_all(&tcp);
	}
	stack_rx_burst_end(&st);
	if (connecting)
		ex_future_drop(&k.base);
	for (i = 0; i < NHELD; i++)
		if (held[i] != NULL)
			tcp_close(held[i]);
	check_all(&tcp);
	if (listening)
		tcp_listener_close(&lst);
	tcp_stack_fini(&tcp);
	stack_fini(&st);
	ex_run_once(ex);
	CHECK(rte_mempool_in_use_count(pool) == 0);
	CHECK(ex_executor_wheel(ex)->armed == 0);
	return 0;
}
