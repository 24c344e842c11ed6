/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ratelimit.h - an l4proxy admission limit that knows nothing of pairs: the
 * per-listener token bucket behind --max-rate / max_rate. Pure data on an
 * injected clock (nanoseconds), so it is tested without a network or a wall
 * clock. One lcore; no allocation.
 */
#ifndef RIPTIDE_L4PROXY_RATELIMIT_H
#define RIPTIDE_L4PROXY_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A token bucket of one second's worth of new connections. */
struct rate_limit {
	uint32_t per_s; /**< 0: no limit */
	uint64_t tokens;
	uint64_t refill_ns; /**< the clock up to which tokens were earned */
};

/** Start full (per_s tokens) at now_ns; per_s 0 admits everything. */
void rate_limit_init(struct rate_limit *r, uint32_t per_s, uint64_t now_ns);

/**
 * Take one token at now_ns (which never goes back). Tokens are earned at
 * per_s a second, up to per_s; fractions of a token are kept, not dropped, so
 * a slow rate with frequent arrivals still refills.
 * @return true if admitted.
 */
bool rate_limit_take(struct rate_limit *r, uint64_t now_ns);

#ifdef __cplusplus
}
#endif

#endif /* RIPTIDE_L4PROXY_RATELIMIT_H */
