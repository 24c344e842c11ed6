/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * services.h - echo's four TCP services (echo, discard, source, HTTP), each
 * its own future type, every connection a task whose session lives in a
 * slot of one shared slab (ex_slab.h): each service's tcp_serve starts
 * sessions of its type; the executor takes a slot back when its session ends.
 */
#ifndef RIPTIDE_ECHO_SERVICES_H
#define RIPTIDE_ECHO_SERVICES_H

#include <stdbool.h>
#include <stdint.h>

#include "ex_slab.h"
#include "tcp.h"
#include "tcp_serve.h"

enum svc {
	SVC_ECHO = 0,
	SVC_DISCARD,
	SVC_SOURCE,
	SVC_HTTP,
	SVC_MAX,
};

extern const char *const svc_names[SVC_MAX];

struct svc_stats {
	uint64_t accepted, completed, failed, refused, bytes, requests;
};

/* Per lane (lcore): each lane counts its own sessions. */
extern _Thread_local struct svc_stats svc_stats[SVC_MAX];

/** What the services send: set before services_init(). */
struct svc_config {
	uint64_t source_bytes; /**< source: bytes per connection */
	bool discard_sha256; /**< discard: print the sha256 of what came in */
	uint32_t http_body; /**< HTTP: the body's length (13: "hello, world\n") */
};

#define SOURCE_CHUNK 65536

/** The pattern the source service sends (also the benchmark client's). */
extern uint8_t source_pattern[SOURCE_CHUNK];

/** @return 0, or -ENOMEM. */
int services_init(const struct svc_config *cfg);
void services_fini(void);

/** The slab slot every session type fits in. */
size_t session_slot_size(void);

/**
 * Serve svc on port: each connection a session of the service's type in a
 * slot of sessions (the slab's size is --max-conns). @return as
 * tcp_serve_start().
 */
int service_start(struct tcp_serve *srv, struct tcp_stack *tcp, enum svc svc, uint16_t port,
		struct ex_slab *sessions);

#endif /* RIPTIDE_ECHO_SERVICES_H */
