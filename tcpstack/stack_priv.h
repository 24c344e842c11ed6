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

/* UDP into st's protocol table (stack_init). @return 0 or -errno. */
int udp_attach(struct ip_iface *st);

#endif /* RIPTIDE_STACK_PRIV_H */
