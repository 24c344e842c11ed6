/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * listener.c - l4proxy's acceptors: one task per listener takes each client
 * from the listen queue, asks the listener's limits (limits.c) whether it is
 * admitted, and makes it a pair (pair.c); a client refused by a limit, or
 * with every pair of the slab (max_pairs) in use, is reset.
 */
#include <errno.h>
#include <string.h>

#include "ex_executor.h"
#include "l4proxy.h"

static enum ex_poll
acceptor_poll(struct ex_future *f, struct ex_context *cx)
{
	struct listener *ls = EX_CONTAINER_OF(f, struct listener, base);

	for (;;) {
		struct tcp_conn *c;
		bool full;

		if (ex_await(&ls->acc.base, cx) == EX_PENDING)
			return EX_PENDING;
		if (ls->acc.base.result < 0)
			return EX_READY; /* the listener closed (shutdown) */
		c = ls->acc.conn;
		tcp_accept_init(&ls->acc, &ls->l);
		ls->conns++;
		if (listener_admit(ls, &full) != 0 || pair_start(ls, c, full) != 0) {
			/* over a limit, or max_pairs in use: refused with a RST */
			ls->refused++;
			ls->ends[END_LIMIT]++;
			conn_log_refused(ls, c, ex_now_ns(host.ex));
			tcp_abort(c);
		}
	}
}

static const struct ex_future_ops acceptor_ops = {
	.poll = acceptor_poll,
	.drop = NULL,
	.name = "l4_acceptor",
};

int
listener_open(struct listener *ls, bool say)
{
	uint32_t ip = ls->vip != 0 ? ls->vip : cfg.ip;
	int rc;

	TAILQ_INIT(&ls->wq);
	/* A VIP is one more address of the stack's (never answered in ARP:
	 * the router sends it to cfg.ip). */
	rc = ls->vip != 0 ? stack_vip_add(&host.st, ls->vip) : 0;
	if (rc == 0)
		rc = tcp_listen(&ls->l, &host.tcp, ip, ls->port, 1024);
	if (rc != 0) {
		fprintf(stderr, "l4proxy: listener %s on %u.%u.%u.%u:%u: %s\n", ls->name, ip >> 24,
				(ip >> 16) & 255, (ip >> 8) & 255, ip & 255, ls->port,
				rc == -EINVAL   ? "a vip cannot be on the proxy's subnet"
				: rc == -ENOSPC ? "more vips than the stack takes (8)"
						: strerror(-rc));
		return rc;
	}
	ls->open = true;
	rate_limit_init(&ls->rate, ls->max_rate, ex_now_ns(host.ex));
	ex_future_init(&ls->base, &acceptor_ops);
	tcp_accept_init(&ls->acc, &ls->l);
	ex_spawn(&ls->base, NULL, NULL);
	if (say)
		printf("l4proxy: listener %s on %u.%u.%u.%u:%u -> pool %s (%s, %u backends%s)\n",
				ls->name, ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255,
				ls->port, ls->pool->name, lb_algo_name(ls->pool->lb.algo),
				ls->pool->lb.n,
				ls->pool->proxy_send == 2   ? ", PROXY v2 to backends"
				: ls->pool->proxy_send == 1 ? ", PROXY v1 to backends"
							    : "");
	if (say && ls->accept_proxy) {
		char t[PP_TRUST_MAX * 20];

		pp_trust_format(&ls->trusted, t, sizeof(t));
		printf("l4proxy: listener %s reads a PROXY header (v1 or v2) from %s\n", ls->name,
				ls->trusted.n > 0 ? t : "any source");
	}
	return 0;
}

int
listeners_start(bool say)
{
	uint32_t i;
	int rc;

	for (i = 0; i < cfg.nlisteners; i++)
		if ((rc = listener_open(&cfg.ls[i], say)) != 0)
			return rc;
	return 0;
}

void
listener_close(struct listener *ls)
{
	if (ls->open) {
		tcp_listener_close(&ls->l);
		ls->open = false;
	}
}

void
listeners_close(void)
{
	uint32_t i;

	for (i = 0; i < cfg.nlisteners; i++)
		listener_close(&cfg.ls[i]);
}
