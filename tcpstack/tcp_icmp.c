/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_icmp.c - ICMP errors about our segments (RFC 1122 4.2.3.9, RFC 5927):
 * a connect refused or unreachable, path MTU discovery (RFC 1191), and a
 * segment the port could not send. On the lcore of the stack.
 */
#include <errno.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "tcp_priv.h"

static struct tcp_conn *
quoted_conn(struct tcp_stack *tcp, const uint8_t *inner, uint16_t inner_len, uint32_t *seq)
{
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)inner;
	uint16_t ihl = (uint16_t)((ip->version_ihl & 0xf) * 4);
	const uint8_t *p;

	if (ihl < sizeof(*ip) || inner_len < ihl + 8 || ip->next_proto_id != IPPROTO_TCP)
		return NULL;
	p = inner + ihl;
	*seq = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
	return tcp_conn_lookup(tcp, rte_be_to_cpu_32(ip->src_addr), (uint16_t)(p[0] << 8 | p[1]),
			rte_be_to_cpu_32(ip->dst_addr), (uint16_t)(p[2] << 8 | p[3]));
}

void
tcp_icmp_error(struct tcp_stack *tcp, const void *inner_ip, uint16_t inner_len, int err)
{
	uint32_t seq = 0;
	struct tcp_conn *c = quoted_conn(tcp, inner_ip, inner_len, &seq);

	/* RFC 5927: believe only an error quoting our own SYN; on a
	 * synchronized connection ICMP errors are soft (RFC 1122 4.2.3.9). */
	if (c != NULL && c->state == TCP_STATE_SYN_SENT && seq == c->iss)
		tcp_conn_terminate(c, err);
}

void
tcp_icmp_frag_needed(struct tcp_stack *tcp, const void *inner_ip, uint16_t inner_len, uint16_t mtu)
{
	static const uint16_t plateaus[] = { 1492, 1006, 508 }; /* RFC 1191 7 */
	const struct rte_ipv4_hdr *iip = inner_ip;
	uint32_t seq = 0, mss;
	struct tcp_conn *c = quoted_conn(tcp, inner_ip, inner_len, &seq);
	unsigned int i;

	if (c == NULL)
		return;
	/* RFC 5927 5.1: only an error quoting a sequence number in flight. */
	if (c->state < TCP_STATE_ESTABLISHED || c->state == TCP_STATE_TIME_WAIT ||
			!tcp_seq_geq(seq, c->snd_una) || !tcp_seq_lt(seq, c->snd_max)) {
		tcp->stats.pmtu_ignored++;
		return;
	}
	if (mtu == 0) { /* an old router: the next plateau below what we sent */
		uint16_t sent = rte_be_to_cpu_16(iip->total_length);

		mtu = TCP_PMTU_MIN;
		for (i = 0; i < RTE_DIM(plateaus); i++)
			if (plateaus[i] < sent) {
				mtu = plateaus[i];
				break;
			}
	}
	mtu = RTE_MAX(mtu, (uint16_t)TCP_PMTU_MIN);
	mss = (uint32_t)mtu - 40 - ((c->flags & TCP_CONN_FLAG_TS) ? TCP_TS_OPT_LEN : 0);
	if (mss >= c->mss)
		return;
	c->mss = (uint16_t)mss;
	tcp->stats.pmtu_lowered++;
	/* The segments in flight were too big for the path: send them again
	 * at the new size now, without treating it as congestion (Linux's
	 * tcp_simple_retransmit). */
	tcp_sb_mark_lost_all(c, false);
	c->flags &= ~(uint32_t)TCP_CONN_FLAG_RTT_TIMING;
	tcp_output(c);
}

void
tcp_tx_failed(struct tcp_stack *tcp, const struct rte_mbuf *m, int err)
{
	uint8_t buf[60 + 8];
	const uint8_t *p;
	uint32_t seq = 0;
	struct tcp_conn *c;

	if (rte_pktmbuf_pkt_len(m) < RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) + 8)
		return;
	p = rte_pktmbuf_read(m, RTE_ETHER_HDR_LEN,
			RTE_MIN(sizeof(buf), rte_pktmbuf_pkt_len(m) - RTE_ETHER_HDR_LEN), buf);
	if (p == NULL)
		return;
	c = quoted_conn(tcp, p,
			(uint16_t)RTE_MIN(sizeof(buf), rte_pktmbuf_pkt_len(m) - RTE_ETHER_HDR_LEN),
			&seq);
	if (c != NULL && c->state == TCP_STATE_SYN_SENT)
		tcp_conn_terminate(c, err);
}
