/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stack_priv.h - between the stack's IPv4 layer (stack.c) and the protocols
 * built into it; not for applications (their API is stack.h, udp.h, tcp.h).
 */
#ifndef RIPTIDE_STACK_PRIV_H
#define RIPTIDE_STACK_PRIV_H

#include "stack.h"

/* UDP into st's protocol table (stack_init). @return 0 or -errno. */
int udp_attach(struct stack *st);

#endif /* RIPTIDE_STACK_PRIV_H */
