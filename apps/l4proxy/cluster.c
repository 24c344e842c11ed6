/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cluster.c - several l4proxy instances behind one router's ECMP, each
 * announcing its listeners' VIPs over BGP (a companion drives FRR from the
 * telemetry this file answers: l4proxyctl bgp; docs/scale-out.md).
 *
 * Flows that survive a move. When the router's set of instances changes
 * (one withdrawn, one added), its hash sends some established flows to an
 * instance that never saw them. A proxy terminates TCP, so the flow can only
 * go on where its connection is: the instance that gets a segment of a flow
 * it does not have hands it, as it arrived, to the owner on the shared link
 * (tcpstack's cluster hooks: the owner's id rides in every TSval we send,
 * so the client's TSecr names it). The owner answers the client directly.
 * A segment a peer handed us for a flow we do not have either is dropped,
 * never reset and never handed on (no loops). New flows (SYNs) are taken
 * wherever they land. A client without TCP timestamps carries no owner: its
 * moved flows are reset, as without a cluster.
 *
 * `cluster = A, B, C` in [global] lists every instance's own address, the
 * same list everywhere; an instance's id is its place in it (1..7).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <rte_telemetry.h>

#include "ipv4_addr.h"
#include "l4proxy.h"

/* The peers' MACs, each lane's (its stack's ARP table), refreshed every
 * 100 ms: from_peer() runs for every segment of a connection not yet moved
 * and compares the source MAC with these, no table lookup. */
struct peer_cache {
	struct rte_ether_addr mac[TCP_CLUSTER_MAX];
	bool known[TCP_CLUSTER_MAX];
	uint64_t next_ns;
};
static _Thread_local struct peer_cache peers;
static uint8_t cluster_id; /* this instance's, 0: no cluster (the same on every lane) */

/* Operator's withdrawal (/l4proxy/announce,off): VIPs out, service on. */
static atomic_bool withdrawn_by_operator;
bool proxy_withdrawing; /* SIGTERM: waiting withdraw_wait_ms before the drain */

static void
peers_refresh(uint64_t now)
{
	uint32_t i;

	for (i = 0; i < cfg.ncluster; i++) {
		peers.known[i] = i + 1 != cluster_id &&
				 stack_arp_lookup(&host.st, cfg.cluster[i], &peers.mac[i]) == 0;
		if (!peers.known[i] && i + 1 != cluster_id)
			(void)stack_arp_resolve(&host.st, cfg.cluster[i]);
	}
	peers.next_ns = now + 100 * EX_NS_PER_MS;
}

static bool
from_peer(void *ctx, const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	uint64_t now = ex_now_coarse_ns(host.ex);
	uint32_t i;

	(void)ctx;
	if (now >= peers.next_ns)
		peers_refresh(now);
	for (i = 0; i < cfg.ncluster; i++)
		if (peers.known[i] && rte_is_same_ether_addr(&eh->src_addr, &peers.mac[i]))
			return true;
	return false;
}

static int
forward(void *ctx, struct rte_mbuf *m, uint16_t l3_off, uint8_t owner)
{
	(void)ctx;
	if (owner == 0 || owner > cfg.ncluster) {
		rte_pktmbuf_free(m); /* names no instance of ours: a forged TSecr */
		return -EINVAL;
	}
	return stack_forward_ipv4(&host.st, m, l3_off, cfg.cluster[owner - 1]);
}

static const struct tcp_cluster_ops cluster_ops = {
	.forward = forward,
	.from_peer = from_peer,
};

int
cluster_lane_up(bool say)
{
	char a[16];
	uint32_t i;
	int rc;

	if (cfg.ncluster == 0)
		return 0;
	cluster_id = 0;
	for (i = 0; i < cfg.ncluster; i++)
		if (cfg.cluster[i] == cfg.ip)
			cluster_id = (uint8_t)(i + 1);
	if (cluster_id == 0) {
		fprintf(stderr, "l4proxy: cluster: this proxy's address %s is not in the list\n",
				ipv4_format(cfg.ip, a, sizeof(a)));
		return -1;
	}
	for (i = 0; i < cfg.ncluster; i++)
		if (cfg.cluster[i] != cfg.ip && stack_arp_resolve(&host.st, cfg.cluster[i]) != 0) {
			fprintf(stderr,
					"l4proxy: cluster: %s is not on the proxy's subnet: "
					"instances hand flows to each other on one link\n",
					ipv4_format(cfg.cluster[i], a, sizeof(a)));
			return -1;
		}
	rc = tcp_stack_cluster(&host.tcp, cluster_id, (uint8_t)cfg.ncluster, &cluster_ops, NULL);
	if (rc != 0)
		return rc;
	memset(&peers, 0, sizeof(peers));
	if (say)
		printf("l4proxy: instance %u of a cluster of %u: flows another instance owns "
		       "are handed to it\n",
				cluster_id, cfg.ncluster);
	return 0;
}

void
cluster_sum(struct tcp_stats *sum)
{
	unsigned int l;

	memset(sum, 0, sizeof(*sum));
	for (l = 0; l < nlanes; l++) {
		const struct stack_host *h = lanes[l].host;

		if (lanes[l].cfg == NULL || h == NULL)
			continue;
		sum->flows_moved_in += h->tcp.stats.flows_moved_in;
		sum->strays_forwarded += h->tcp.stats.strays_forwarded;
		sum->strays_dropped += h->tcp.stats.strays_dropped;
		sum->strays_flooded += h->tcp.stats.strays_flooded;
	}
}

const char *
announce_state(void)
{
	if (proxy_stopping)
		return "draining";
	if (proxy_withdrawing)
		return "stopping";
	if (atomic_load(&withdrawn_by_operator))
		return "withdrawn";
	return "serving";
}

/* /l4proxy/vips: each VIP, its listeners, the backends able to take a
 * connection behind them, and whether it should be announced now (serving,
 * and at least one such backend); the proxy's state and cluster id. */
static int
tel_vips(const char *cmd, const char *params, struct rte_tel_data *d)
{
	static const char *const cols[] = { "s:vip", "s:listeners", "healthy", "s:announce" };
	const struct config *c = lanes[0].cfg;
	const char *state = announce_state();
	uint32_t seen[MAX_LISTENERS], nseen = 0, i, j, k;
	struct tel_table t;

	(void)cmd;
	if (params != NULL && params[0] != '\0')
		return -EINVAL;
	if (tel_table_start(&t, d, cols, RTE_DIM(cols)) != 0)
		return -ENOMEM;
	for (i = 0; i < c->nlisteners; i++) {
		uint32_t vip = c->ls[i].vip;
		char names[MAX_LISTENERS * NAME_LEN] = "", a[16];
		uint64_t healthy = 0;
		bool dup = false;

		if (c->ls[i].retired || vip == 0)
			continue;
		for (j = 0; j < nseen; j++)
			dup |= seen[j] == vip;
		if (dup)
			continue;
		seen[nseen++] = vip;
		for (j = i; j < c->nlisteners; j++) {
			const struct pool *p = c->ls[j].pool;

			if (c->ls[j].retired || c->ls[j].vip != vip)
				continue;
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
					names[0] != '\0' ? "," : "", c->ls[j].name);
			for (k = 0; k < p->lb.n; k++)
				healthy += lb_in_table(&p->lb.be[k]);
		}
		rte_tel_data_add_array_string(t.col[0], ipv4_format(vip, a, sizeof(a)));
		rte_tel_data_add_array_string(t.col[1], names);
		rte_tel_data_add_array_u64(t.col[2], healthy);
		rte_tel_data_add_array_string(t.col[3],
				strcmp(state, "serving") == 0 && healthy > 0 ? "yes" : "no");
	}
	tel_table_add(&t, d, "");
	rte_tel_data_add_dict_string(d, "state", state);
	rte_tel_data_add_dict_u64(d, "instance", cluster_id);
	rte_tel_data_add_dict_u64(d, "instances", c->ncluster);
	{
		struct tcp_stats sum;

		cluster_sum(&sum);
		rte_tel_data_add_dict_u64(d, "flows_moved_in", sum.flows_moved_in);
		rte_tel_data_add_dict_u64(d, "strays_forwarded", sum.strays_forwarded);
		rte_tel_data_add_dict_u64(d, "strays_dropped", sum.strays_dropped);
		rte_tel_data_add_dict_u64(d, "strays_flooded", sum.strays_flooded);
	}
	return 0;
}

/* /l4proxy/announce,on|off: the operator's withdrawal of every VIP (the
 * proxy serves on: what is still routed to it, and flows handed to it). */
static int
tel_announce(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	if (params == NULL || (strcmp(params, "on") != 0 && strcmp(params, "off") != 0)) {
		rte_tel_data_string(d, "error: /l4proxy/announce,on or /l4proxy/announce,off");
		return 0;
	}
	atomic_store(&withdrawn_by_operator, strcmp(params, "off") == 0);
	printf("l4proxy: runtime: announce %s\n", params);
	rte_tel_data_string(d,
			strcmp(params, "off") == 0
					? "ok: every vip withdrawn (the proxy serves on)"
					: "ok: vips announced while they have a healthy backend");
	return 0;
}

void
cluster_register(void)
{
	tel_register("/l4proxy/vips", tel_vips,
			"Each VIP: its listeners, healthy backends, announce yes/no; the state "
			"(serving, withdrawn, stopping, draining). No parameters");
	tel_register("/l4proxy/announce", tel_announce,
			"Withdraw (off) or announce again (on) every VIP. Parameters: on|off");
}
