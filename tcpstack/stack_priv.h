/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stack_priv.h - between the stack's IPv4 layer (stack.c) and the protocols
 * built into it; not for applications (their API is stack.h, udp.h, tcp.h).
 */
#ifndef RIPTIDE_STACK_PRIV_H
#define RIPTIDE_STACK_PRIV_H

#include <rte_log.h>

#include "stack.h"

/* The stack's log type, "riptide.stack" (--log-level=riptide.stack:debug). */
extern int stack_logtype;
#define STACK_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, stack_logtype, "riptide.stack: " fmt "\n", ##__VA_ARGS__)

/* The protocol table: at most STACK_L4_MAX entries, TCP and UDP first. */
static inline const struct stack_l4 *
stack_l4_find(const struct ip_iface *st, uint8_t proto)
{
	uint8_t i;

	for (i = 0; i < st->n_l4; i++)
		if (st->l4[i].proto == proto)
			return &st->l4[i];
	return NULL;
}

/* The stack's clock for ARP deadlines and rate limits (the executor's). */
static inline uint64_t
stack_now_ns(const struct ip_iface *st)
{
	return ex_now_coarse_ns(st->ex);
}

/* Hand one frame to the port (counted; dropped and counted if it refuses). */
void stack_transmit(struct ip_iface *st, struct rte_mbuf *m);

/* ---- stack_arp.c, for stack.c ---- */

/* The entry for ip (any state), or NULL. */
struct stack_arp_entry *stack_arp_find(const struct ip_iface *st, uint32_t ip);
/* A new INCOMPLETE entry for hop, its first request sent; NULL if the table
 * is full. */
struct stack_arp_entry *stack_arp_start(struct ip_iface *st, uint32_t hop);
/* Ask who has tip. @return 0 or -ENOBUFS. */
int stack_arp_request(struct ip_iface *st, uint32_t tip);
/* A received ARP frame: learned from, answered or dropped (taken). */
void stack_arp_input(struct ip_iface *st, struct rte_mbuf *m);
/* The ARP timer: retries, expiry, refresh (st->arp_timer's callback). */
void stack_arp_tick(struct ex_timer *t);
/* Free every queued packet and empty the table. */
void stack_arp_fini(struct ip_iface *st);

/* UDP into st's protocol table (stack_init). @return 0 or -errno. */
int udp_attach(struct ip_iface *st);

#endif /* RIPTIDE_STACK_PRIV_H */
