/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_serve.h - a listener that spawns a task per connection: Tokio's
 *
 *   loop { let (conn, _) = listener.accept().await?; tokio::spawn(handle(conn)); }
 *
 * as one future. Each accepted connection gets a slot of a slab
 * (ex_slab.h); the app's start function makes its session future there and
 * the server spawns it; the executor takes the slot back when the session
 * ends. With every slot in use, or when start refuses, the connection is
 * reset and counted: the slab's size is the connection limit.
 *
 * Lcore: the slab's executor's.
 */
#ifndef RIPTIDE_TCP_SERVE_H
#define RIPTIDE_TCP_SERVE_H

#include <stdint.h>

#include "ex_slab.h"
#include "tcp.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Make a session for conn in slot (zeroed, the slab's slot size) and return
 * its future, which the server spawns; or NULL to refuse (the server resets
 * conn). The session owns conn from then on and must close or abort it when
 * it ends, and abort it from its drop (it is dropped at shutdown).
 */
typedef struct ex_future *tcp_session_start_fn(void *slot, struct tcp_conn *conn, void *arg);

struct tcp_serve {
	struct ex_future base;
	struct tcp_listener l;
	struct tcp_accept acc;
	struct ex_slab *sessions;
	tcp_session_start_fn *start;
	void *arg;
	uint64_t accepted; /**< sessions spawned */
	uint64_t refused; /**< reset: no free slot, or start returned NULL */
};

/**
 * Listen on (ip, port) (tcp_listen()) and spawn the server task on the
 * calling thread's executor (the slab's).
 * @return 0, or tcp_listen()'s or ex_spawn()'s error (nothing left open).
 */
int tcp_serve_start(struct tcp_serve *s, struct tcp_stack *tcp, uint32_t ip, uint16_t port,
		uint16_t backlog, struct ex_slab *sessions, tcp_session_start_fn *start, void *arg);

/**
 * Close the listener. After the executor shut down (stack_host_shutdown()),
 * which dropped the server task and every session.
 */
void tcp_serve_close(struct tcp_serve *s);

#ifdef __cplusplus
}
#endif

#endif /* RIPTIDE_TCP_SERVE_H */
