/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_impair.c - seeded loss, corruption, duplication, reordering, delay and
 * rate limiting over a stream of bursts. Polled on its executor's lcore.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_random.h>
#include <rte_ring.h>

#include "dp_impair.h"

#define DEFAULT_LIMIT 10000
#define HOLD_MAX_NS (1 * EX_NS_PER_MS)
#define PULL_ROUNDS 4
/* Bounds that keep every conversion from double defined (strtod also takes
 * "nan", "inf" and 1e400, found by tests/fuzz/fuzz_impair.c). */
#define TIME_MAX_NS 3.6e12 /* an hour */
#define RATE_MAX_BPS 1e13 /* 10 Tbit/s */

/* ---- configuration ---- */

static int
fail(char *err, size_t len, const char *key, const char *what)
{
	if (err != NULL && len > 0)
		snprintf(err, len, "impairment '%s': %s", key, what);
	return -EINVAL;
}

/* "2%", "0.1%" -> ppm */
static int
parse_pct(const char *s, uint32_t *ppm, const char **end)
{
	char *e;
	double v = strtod(s, &e);

	if (e == s || *e != '%' || !(v >= 0 && v <= 100))
		return -1;
	*ppm = (uint32_t)(v * 10000.0 + 0.5);
	*end = e + 1;
	return 0;
}

/* "20ms", "150us", "2s", "500ns" -> ns */
static int
parse_time(const char *s, uint64_t *ns, const char **end)
{
	char *e;
	double v = strtod(s, &e);
	double mul;

	if (e == s || !(v >= 0 && v <= TIME_MAX_NS))
		return -1;
	if (strncmp(e, "ns", 2) == 0) {
		mul = 1;
		e += 2;
	} else if (strncmp(e, "us", 2) == 0) {
		mul = 1e3;
		e += 2;
	} else if (strncmp(e, "ms", 2) == 0) {
		mul = 1e6;
		e += 2;
	} else if (*e == 's') {
		mul = 1e9;
		e += 1;
	} else {
		return -1;
	}
	if (!(v * mul <= TIME_MAX_NS))
		return -1;
	*ns = (uint64_t)(v * mul + 0.5);
	*end = e;
	return 0;
}

static int
parse_rate(const char *s, uint64_t *bps, const char **end)
{
	static const struct {
		const char *unit;
		double mul;
	} units[] = { { "gbit", 1e9 }, { "mbit", 1e6 }, { "kbit", 1e3 }, { "bit", 1 } };
	char *e;
	double v = strtod(s, &e);
	size_t i;

	if (e == s || !(v > 0 && v <= RATE_MAX_BPS))
		return -1;
	for (i = 0; i < RTE_DIM(units); i++) {
		size_t n = strlen(units[i].unit);

		if (strncasecmp(e, units[i].unit, n) == 0) {
			if (!(v * units[i].mul <= RATE_MAX_BPS))
				return -1;
			*bps = (uint64_t)(v * units[i].mul);
			*end = e + n;
			return *bps == 0 ? -1 : 0;
		}
	}
	return -1;
}

int
dp_impair_parse(const char *spec, struct dp_impair_config *cfg, char *err, size_t errlen)
{
	char buf[512];
	char *save = NULL, *tok;

	memset(cfg, 0, sizeof(*cfg));
	cfg->limit = DEFAULT_LIMIT;
	cfg->seed = 1;
	if (spec == NULL || *spec == '\0')
		return 0;
	if (strlen(spec) >= sizeof(buf))
		return fail(err, errlen, spec, "too long");
	strcpy(buf, spec);
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		const char *v, *e;

		if (eq == NULL)
			return fail(err, errlen, tok, "expected key=value");
		*eq = '\0';
		v = eq + 1;
		if (strcmp(tok, "loss") == 0) {
			if (parse_pct(v, &cfg->loss_ppm, &e) != 0)
				return fail(err, errlen, tok,
						"expected a percentage, e.g. loss=2%");
			cfg->loss_burst = 1;
			if (*e == ':') {
				char *x;
				unsigned long b = strtoul(e + 1, &x, 10);

				if (x == e + 1 || *x != '\0' || b == 0 || b > 1000)
					return fail(err, errlen, tok,
							"burst length must be 1..1000, e.g. loss=2%:4");
				cfg->loss_burst = (uint32_t)b;
			} else if (*e != '\0') {
				return fail(err, errlen, tok, "trailing characters");
			}
		} else if (strcmp(tok, "dup") == 0 || strcmp(tok, "corrupt") == 0) {
			uint32_t *ppm = tok[0] == 'd' ? &cfg->dup_ppm : &cfg->corrupt_ppm;

			if (parse_pct(v, ppm, &e) != 0 || *e != '\0')
				return fail(err, errlen, tok, "expected a percentage, e.g. 1%");
		} else if (strcmp(tok, "reorder") == 0) {
			char *x;

			if (parse_pct(v, &cfg->reorder_ppm, &e) != 0)
				return fail(err, errlen, tok, "expected P%:N or P%:TIME");
			if (*e != ':')
				return fail(err, errlen, tok,
						"say how far: reorder=5%:3 (packets) or 5%:200us");
			cfg->reorder_pkts = (uint32_t)strtoul(e + 1, &x, 10);
			if (*x == '\0' && x != e + 1) {
				if (cfg->reorder_pkts == 0 || cfg->reorder_pkts > 1000)
					return fail(err, errlen, tok, "packets must be 1..1000");
			} else {
				cfg->reorder_pkts = 0;
				if (parse_time(e + 1, &cfg->reorder_ns, &e) != 0 || *e != '\0' ||
						cfg->reorder_ns == 0)
					return fail(err, errlen, tok,
							"expected N or a time, e.g. 200us");
			}
		} else if (strcmp(tok, "delay") == 0) {
			if (parse_time(v, &cfg->delay_ns, &e) != 0)
				return fail(err, errlen, tok,
						"expected a time, e.g. delay=20ms:5ms");
			if (*e == ':' && (parse_time(e + 1, &cfg->jitter_ns, &e) != 0))
				return fail(err, errlen, tok, "bad jitter, e.g. delay=20ms:5ms");
			if (*e != '\0')
				return fail(err, errlen, tok, "trailing characters");
			if (cfg->delay_ns > 60 * EX_NS_PER_S || cfg->jitter_ns > cfg->delay_ns)
				return fail(err, errlen, tok, "delay <= 60s and jitter <= delay");
		} else if (strcmp(tok, "rate") == 0) {
			if (parse_rate(v, &cfg->rate_bps, &e) != 0 || *e != '\0')
				return fail(err, errlen, tok, "expected e.g. rate=100mbit");
		} else if (strcmp(tok, "limit") == 0) {
			char *x;
			unsigned long n = strtoul(v, &x, 10);

			if (x == v || *x != '\0' || n == 0 || n > 1000000)
				return fail(err, errlen, tok, "expected 1..1000000 packets");
			cfg->limit = (uint32_t)n;
		} else if (strcmp(tok, "seed") == 0) {
			char *x;

			if (strcmp(v, "random") == 0) {
				/* A fresh seed, small enough to retype when a run is
				 * to be repeated; dp_impair_format() shows it. */
				cfg->seed = rte_rand() % 1000000;
				continue;
			}
			cfg->seed = strtoull(v, &x, 0);
			if (x == v || *x != '\0')
				return fail(err, errlen, tok, "expected an integer or 'random'");
		} else {
			return fail(err, errlen, tok,
					"unknown key (loss, dup, reorder, delay, corrupt, rate, limit, seed)");
		}
	}
	return 0;
}

void
dp_impair_format(const struct dp_impair_config *c, char *buf, size_t len)
{
	snprintf(buf, len,
			"loss=%.4f%%:%u,dup=%.4f%%,reorder=%.4f%%:%u/%" PRIu64 "ns,delay=%" PRIu64
			"ns:%" PRIu64 "ns,corrupt=%.4f%%,rate=%" PRIu64
			"bit,limit=%u,seed=%" PRIu64,
			c->loss_ppm / 1e4, c->loss_burst, c->dup_ppm / 1e4, c->reorder_ppm / 1e4,
			c->reorder_pkts, c->reorder_ns, c->delay_ns, c->jitter_ns,
			c->corrupt_ppm / 1e4, c->rate_bps, c->limit, c->seed);
}

/* ---- randomness: splitmix64, private to the stage ---- */

static inline uint64_t
rng_next(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* A draw in [0, 1e6): multiply-shift, no division. */
static inline uint32_t
rng_ppm(uint64_t *s)
{
	return (uint32_t)(((rng_next(s) >> 32) * DP_IMPAIR_PPM) >> 32);
}

/* ---- the release heap ---- */

static inline bool
entry_before(const struct dp_impair_entry *a, const struct dp_impair_entry *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void
heap_push(struct dp_impair *im, const struct dp_impair_entry *e)
{
	uint32_t i = im->heap_n++;

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (!entry_before(e, &im->heap[parent]))
			break;
		im->heap[i] = im->heap[parent];
		i = parent;
	}
	im->heap[i] = *e;
}

static void
heap_pop(struct dp_impair *im)
{
	struct dp_impair_entry last = im->heap[--im->heap_n];
	uint32_t i = 0;

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= im->heap_n)
			break;
		if (c + 1 < im->heap_n && entry_before(&im->heap[c + 1], &im->heap[c]))
			c++;
		if (!entry_before(&im->heap[c], &last))
			break;
		im->heap[i] = im->heap[c];
		i = c;
	}
	if (im->heap_n > 0)
		im->heap[i] = last;
}

/* ---- output ---- */

static inline uint32_t
fifo_len(const struct dp_impair *im)
{
	return im->fifo_tail - im->fifo_head;
}

/* Emit one packet in order, then let held packets whose count ran out
 * follow it. The FIFO always has room: pulling stops well before it fills. */
static void
emit(struct dp_impair *im, struct rte_mbuf *m)
{
	uint32_t i = 0;

	im->fifo[im->fifo_tail++ & (DP_IMPAIR_FIFO - 1)] = m;
	im->stats.out++;
	while (i < im->holds_n) {
		if (--im->holds[i].behind == 0) {
			struct rte_mbuf *h = im->holds[i].m;

			im->holds[i] = im->holds[--im->holds_n];
			im->fifo[im->fifo_tail++ & (DP_IMPAIR_FIFO - 1)] = h;
			im->stats.out++;
			continue;
		}
		i++;
	}
}

/* Flip one bit after the Ethernet header, copying first if any of the data
 * is shared (a clone or a refcounted mbuf must not change under its owner). */
static struct rte_mbuf *
corrupt(struct dp_impair *im, struct rte_mbuf *m, uint64_t draw)
{
	uint32_t len = rte_pktmbuf_pkt_len(m), off;
	struct rte_mbuf *seg;

	if (len <= 14)
		return m;
	/* Any segment may be shared: a TCP retransmission is a header chained
	 * to indirect mbufs over the send queue, which must stay intact. */
	for (seg = m; seg != NULL; seg = seg->next)
		if (RTE_MBUF_CLONED(seg) || rte_mbuf_refcnt_read(seg) > 1 ||
				RTE_MBUF_HAS_EXTBUF(seg))
			break;
	if (seg != NULL) {
		struct rte_mbuf *c = rte_pktmbuf_copy(m, im->pool, 0, UINT32_MAX);

		if (c == NULL)
			return m; /* no mbuf: leave it intact rather than corrupt a shared one */
		rte_pktmbuf_free(m);
		m = c;
	}
	off = 14 + (uint32_t)(((draw >> 32) * (len - 14)) >> 32);
	for (seg = m; seg != NULL && off >= seg->data_len; seg = seg->next)
		off -= seg->data_len;
	if (seg == NULL)
		return m;
	rte_pktmbuf_mtod_offset(seg, uint8_t *, off)[0] ^= (uint8_t)(1u << (draw & 7));
	/* Whatever the PMD verified no longer holds: the receiver must check. */
	m->ol_flags &= ~(RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK);
	im->stats.corrupted++;
	return m;
}

static void
queue_or_drop(struct dp_impair *im, struct rte_mbuf *m, uint64_t t, uint64_t seq, bool delayed)
{
	struct dp_impair_entry e = { .t = t, .seq = seq, .m = m, .behind = 0 };

	if (im->heap_n >= im->cfg.limit) {
		rte_pktmbuf_free(m);
		im->stats.overflow++;
		return;
	}
	heap_push(im, &e);
	if (delayed)
		im->stats.delayed++;
}

/* Decide one packet's fate. Random draws, always in this order and number:
 * loss (2), corrupt (2), dup (1), reorder (1), jitter (1). */
static void
impair_one(struct dp_impair *im, struct rte_mbuf *m, uint64_t now)
{
	const struct dp_impair_config *c = &im->cfg;
	uint32_t r_loss = rng_ppm(&im->rng), r_state = rng_ppm(&im->rng);
	uint32_t r_corrupt = rng_ppm(&im->rng);
	uint64_t r_bit = rng_next(&im->rng);
	uint32_t r_dup = rng_ppm(&im->rng), r_reorder = rng_ppm(&im->rng);
	uint64_t r_jitter = rng_next(&im->rng);
	struct rte_mbuf *copies[2];
	uint32_t n = 1, i;
	bool lost, reorder;
	uint64_t t;

	im->stats.in++;
	/* Loss: independent, or Gilbert: lose while in the bad state. */
	if (c->loss_burst <= 1) {
		lost = r_loss < c->loss_ppm;
	} else {
		if (im->loss_bad)
			im->loss_bad = r_state >= im->p_leave_bad;
		else
			im->loss_bad = r_state < im->p_enter_bad;
		lost = im->loss_bad;
	}
	if (lost) {
		rte_pktmbuf_free(m);
		im->stats.lost++;
		return;
	}
	if (r_corrupt < c->corrupt_ppm)
		m = corrupt(im, m, r_bit);
	copies[0] = m;
	if (r_dup < c->dup_ppm) {
		copies[1] = rte_pktmbuf_copy(m, im->pool, 0, UINT32_MAX);
		if (copies[1] != NULL) {
			n = 2;
			im->stats.duplicated++;
		} else {
			im->stats.dup_failed++;
		}
	}
	reorder = r_reorder < c->reorder_ppm;

	/* When it may leave: delay and jitter, then the rate limit. */
	t = now + c->delay_ns;
	if (c->jitter_ns != 0) {
		uint64_t span = 2 * c->jitter_ns + 1;
		uint64_t j = ((r_jitter >> 32) * span) >> 32;

		t = t + j >= c->jitter_ns ? t + j - c->jitter_ns : now;
		if (t < now)
			t = now;
	}
	for (i = 0; i < n; i++) {
		struct rte_mbuf *p = copies[i];
		uint64_t seq = im->seq++, tp = t;

		if (c->rate_bps != 0) {
			uint64_t tx_ns = (rte_pktmbuf_pkt_len(p) * im->ns_per_byte_q32) >> 32;

			tp = RTE_MAX(tp, im->rate_next);
			im->rate_next = tp + tx_ns;
		}
		if (reorder && i == 0) {
			im->stats.reordered++;
			if (c->reorder_pkts != 0 && im->holds_n < DP_IMPAIR_HOLDS) {
				struct dp_impair_entry *h = &im->holds[im->holds_n++];

				h->m = p;
				h->behind = c->reorder_pkts;
				h->t = RTE_MAX(tp, now) + HOLD_MAX_NS;
				h->seq = seq;
				continue;
			}
			tp += c->reorder_ns;
		}
		/* Behind queued packets a due one still waits its turn. */
		if (tp > now || im->heap_n != 0)
			queue_or_drop(im, p, tp, seq, tp > now);
		else
			emit(im, p);
	}
}

/* Move what is due (heap, and holds past their time) to the FIFO. */
static void
release_due(struct dp_impair *im, uint64_t now)
{
	uint32_t i = 0;

	while (im->heap_n != 0 && im->heap[0].t <= now &&
			fifo_len(im) < DP_IMPAIR_FIFO - DP_IMPAIR_HOLDS - 1) {
		struct rte_mbuf *m = im->heap[0].m;

		heap_pop(im);
		emit(im, m);
	}
	while (i < im->holds_n) {
		if (im->holds[i].t <= now || im->inner_ended) {
			struct rte_mbuf *h = im->holds[i].m;

			im->holds[i] = im->holds[--im->holds_n];
			im->fifo[im->fifo_tail++ & (DP_IMPAIR_FIFO - 1)] = h;
			im->stats.out++;
			continue;
		}
		i++;
	}
}

static uint64_t
next_due(const struct dp_impair *im)
{
	uint64_t t = UINT64_MAX;
	uint32_t i;

	if (im->heap_n != 0)
		t = im->heap[0].t;
	for (i = 0; i < im->holds_n; i++)
		t = RTE_MIN(t, im->holds[i].t);
	return t;
}

static void
timer_fired(struct ex_timer *t)
{
	struct dp_impair *im = EX_CONTAINER_OF(t, struct dp_impair, timer);

	ex_waker_wake(&im->waiter);
}

static enum ex_next
impair_poll_next(struct ex_stream *st, struct ex_context *cx, union ex_item *out)
{
	struct dp_impair *im = EX_CONTAINER_OF(st, struct dp_impair, base);
	struct ex_executor *ex = ex_context_executor(cx);
	uint64_t now, due;
	unsigned int round;

	if (im->burst.n != 0)
		goto yield;
	if (ex == NULL)
		ex = ex_current();
	now = ex_now_ns(ex);
	/* Pull while there is room for a whole burst and its duplicates. */
	for (round = 0; round < PULL_ROUNDS && !im->inner_ended &&
			fifo_len(im) + 2 * DP_VEC_MAX + DP_IMPAIR_HOLDS < DP_IMPAIR_FIFO;
			round++) {
		union ex_item it;
		struct dp_burst *b;
		uint16_t i;
		enum ex_next r = ex_stream_poll_next(im->inner, cx, &it);

		if (r == EX_NEXT_PENDING)
			break;
		if (r == EX_NEXT_END) {
			im->inner_ended = true;
			st->error = im->inner->error;
			break;
		}
		b = it.ptr;
		for (i = 0; i < b->n; i++)
			impair_one(im, b->pkts[i], now);
		b->n = 0;
	}
	release_due(im, now);
	while (im->burst.n < DP_VEC_MAX && fifo_len(im) != 0)
		im->burst.pkts[im->burst.n++] = im->fifo[im->fifo_head++ & (DP_IMPAIR_FIFO - 1)];
	if (im->burst.n != 0)
		goto yield;
	if (im->inner_ended && im->heap_n == 0 && im->holds_n == 0)
		return EX_NEXT_END;
	/* Nothing to hand out: wait for the inner stream (it has our waker)
	 * or for the next release time. */
	im->waiter = cx->waker;
	due = next_due(im);
	if (due != UINT64_MAX) {
		im->wheel = ex_executor_wheel(ex);
		ex_timer_arm(im->wheel, &im->timer, due, NULL);
	}
	return EX_NEXT_PENDING;
yield:
	out->ptr = &im->burst;
	return EX_NEXT_ITEM;
}

static void
impair_drop(struct ex_stream *st)
{
	dp_impair_fini(EX_CONTAINER_OF(st, struct dp_impair, base));
}

static const struct ex_stream_ops impair_ops = {
	.poll_next = impair_poll_next,
	.drop = impair_drop,
	.name = "impair",
};

int
dp_impair_init(struct dp_impair *im, struct ex_stream *inner, const struct dp_impair_config *cfg,
		struct rte_mempool *pool)
{
	if (im == NULL || inner == NULL || cfg == NULL || pool == NULL || cfg->limit == 0)
		return -EINVAL;
	memset(im, 0, sizeof(*im));
	im->base.ops = &impair_ops;
	im->inner = inner;
	im->cfg = *cfg;
	im->pool = pool;
	im->rng = cfg->seed;
	if (cfg->loss_burst > 1 && cfg->loss_ppm > 0) {
		/* Gilbert: mean bad run B => leave with 1/B; stationary loss
		 * p = enter / (enter + leave) => enter = leave * p / (1 - p). */
		double p = cfg->loss_ppm / (double)DP_IMPAIR_PPM;
		double leave = 1.0 / cfg->loss_burst;
		double enter = p >= 1.0 ? 1.0 : leave * p / (1.0 - p);

		im->p_leave_bad = (uint32_t)(leave * DP_IMPAIR_PPM);
		im->p_enter_bad = (uint32_t)(RTE_MIN(enter, 1.0) * DP_IMPAIR_PPM);
	}
	if (cfg->rate_bps != 0)
		im->ns_per_byte_q32 = (uint64_t)((8e9 / (double)cfg->rate_bps) * 4294967296.0);
	im->heap = rte_malloc("dp_impair", sizeof(*im->heap) * cfg->limit, 0);
	if (im->heap == NULL)
		return -ENOMEM;
	ex_timer_init_callback(&im->timer, timer_fired);
	im->waiter = ex_waker_noop();
	return 0;
}

uint32_t
dp_impair_held(const struct dp_impair *im)
{
	return im->heap_n + im->holds_n + fifo_len(im) + im->burst.n;
}

void
dp_impair_fini(struct dp_impair *im)
{
	uint32_t i;

	if (im->wheel != NULL)
		ex_timer_cancel(im->wheel, &im->timer);
	for (i = 0; i < im->heap_n; i++)
		rte_pktmbuf_free(im->heap[i].m);
	im->heap_n = 0;
	for (i = 0; i < im->holds_n; i++)
		rte_pktmbuf_free(im->holds[i].m);
	im->holds_n = 0;
	while (fifo_len(im) != 0)
		rte_pktmbuf_free(im->fifo[im->fifo_head++ & (DP_IMPAIR_FIFO - 1)]);
	dp_burst_free(&im->burst);
	rte_free(im->heap);
	im->heap = NULL;
	ex_stream_drop(im->inner);
}

/* ---- a port impaired both ways ---- */

int
dp_impair_link_init(struct dp_impair_link *l, struct ex_executor *ex, struct dp_burst_stream *rx,
		struct dp_tx_sink *tx, const struct dp_impair_config *cfg, struct rte_mempool *pool,
		const char *name)
{
	struct dp_impair_config txcfg = *cfg;
	char rname[RTE_RING_NAMESIZE];
	int rc;

	memset(l, 0, sizeof(*l));
	snprintf(rname, sizeof(rname), "imp_%s", name);
	l->ring = rte_ring_create(rname, 4096, pool->socket_id, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (l->ring == NULL)
		return -ENOMEM;
	rc = dp_impair_init(&l->rx, &rx->base, cfg, pool);
	if (rc != 0)
		goto free_ring;
	dp_ring_sink_init(&l->ring_sink, ex, l->ring);
	dp_ring_stream_init(&l->ring_stream, ex, l->ring);
	txcfg.seed = cfg->seed + 1; /* the other direction: its own sequence */
	rc = dp_impair_init(&l->tx, &l->ring_stream.base, &txcfg, pool);
	if (rc != 0)
		goto fini_rx;
	ex_forward_init(&l->fw, &l->tx.base, &tx->base, dp_burst_release, NULL);
	rc = ex_spawn_to(ex, &l->fw.base, NULL, NULL);
	if (rc != 0)
		goto fini_tx;
	l->in = &l->rx.base;
	l->out = &l->ring_sink.base;
	return 0;
fini_tx:
	dp_impair_fini(&l->tx);
fini_rx:
	dp_ring_sink_fini(&l->ring_sink);
	dp_rx_stream_fini(&l->ring_stream);
	dp_impair_fini(&l->rx);
free_ring:
	rte_ring_free(l->ring);
	l->ring = NULL;
	return rc;
}

void
dp_impair_link_fini(struct dp_impair_link *l)
{
	void *m = NULL;

	if (l->ring == NULL)
		return;
	dp_impair_fini(&l->rx);
	dp_impair_fini(&l->tx);
	dp_ring_sink_fini(&l->ring_sink);
	dp_rx_stream_fini(&l->ring_stream);
	/* What was sent after the forwarder stopped (resets at shutdown). */
	while (rte_ring_dequeue(l->ring, &m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(l->ring);
	l->ring = NULL;
}
