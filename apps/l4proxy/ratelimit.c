/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ratelimit.c - the token bucket of ratelimit.h. Called by the acceptor, on the
 * lcore that owns the listener, once per accepted connection.
 */
#include "ratelimit.h"

#define NS_PER_S UINT64_C(1000000000)

void
rate_limit_init(struct rate_limit *r, uint32_t per_s, uint64_t now_ns)
{
	r->per_s = per_s;
	r->tokens = per_s;
	r->refill_ns = now_ns;
}

bool
rate_limit_take(struct rate_limit *r, uint64_t now_ns)
{
	uint64_t elapsed, add;

	if (r->per_s == 0)
		return true;
	/* The clock advances only by the time whole tokens were earned, so
	 * the fraction of a token earned so far is kept for the next call. */
	elapsed = now_ns - r->refill_ns;
	if (elapsed >= NS_PER_S) {
		r->tokens = r->per_s;
		r->refill_ns = now_ns;
	} else {
		add = elapsed * r->per_s / NS_PER_S;
		if (add > 0) {
			r->tokens = r->tokens + add < r->per_s ? r->tokens + add : r->per_s;
			r->refill_ns += add * NS_PER_S / r->per_s;
			if (r->tokens == r->per_s)
				r->refill_ns = now_ns;
		}
	}
	if (r->tokens == 0)
		return false;
	r->tokens--;
	return true;
}
