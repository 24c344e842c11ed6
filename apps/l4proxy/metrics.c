/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * metrics.c - l4proxy's Prometheus endpoint: GET /metrics on the proxy's
 * own address, port metrics_port, served by riptide's TCP stack (no kernel
 * socket): the text exposition format 0.0.4, every figure summed over the
 * lanes (per lcore where the metric says so).
 *
 * Every lane listens on the port (as for the listeners: a scrape's flow is
 * steered to one lane, which renders every lane's figures, read where each
 * lane keeps them; a torn read of a counter is harmless). A scrape is a
 * session of a tcp_serve: read the request head (lines up to an empty one),
 * answer one response, close (HTTP/1.1 with Connection: close). A client
 * that does not finish its request in METRICS_DEADLINE_MS is reset; a lane
 * holds METRICS_SESSIONS scrapes at once, more are reset. The body is built
 * in memory (malloc, off the pairs' path: a scrape is rare) and written
 * with tcp_write, which waits on the send window.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ex_executor.h"
#include "ex_slab.h"
#include "ex_timer.h"
#include "l4proxy.h"
#include "stack.h"
#include "tcp_serve.h"

#define METRICS_SESSIONS 8
#define METRICS_DEADLINE_MS 5000
#define METRICS_LINE_CAP 1024

/* ---- the text ---- */

void
tx(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->oom = true;
			return;
		}
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		{
			size_t cap = (t->cap + (size_t)n + 1) * 2;
			char *b = realloc(t->buf, cap);

			if (b == NULL) {
				t->oom = true;
				return;
			}
			t->buf = b;
			t->cap = cap;
		}
	}
}

/* A label value, escaped as the format asks (\\, \", \n). */
static const char *
esc(char *out, size_t len, const char *s)
{
	size_t o = 0;

	for (; *s != '\0' && o + 3 < len; s++) {
		if (*s == '\\' || *s == '"') {
			out[o++] = '\\';
			out[o++] = *s;
		} else if (*s == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = *s;
		}
	}
	out[o] = '\0';
	return out;
}

static void
family(struct text *t, const char *name, const char *type, const char *help)
{
	tx(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
histogram(struct text *t, const char *name, const char *labels, const struct hist *h,
		const uint64_t *bound)
{
	uint64_t cum = 0;
	unsigned int i;

	for (i = 0; i < HIST_BOUNDS; i++) {
		cum += h->n[i];
		tx(t, "%s_bucket{%s,le=\"%g\"} %" PRIu64 "\n", name, labels, (double)bound[i] / 1e9,
				cum);
	}
	tx(t, "%s_bucket{%s,le=\"+Inf\"} %" PRIu64 "\n", name, labels, h->count);
	tx(t, "%s_sum{%s} %.9f\n", name, labels, (double)h->sum_ns / 1e9);
	tx(t, "%s_count{%s} %" PRIu64 "\n", name, labels, h->count);
}

void
hist_sum(struct hist *out, const struct hist *h)
{
	unsigned int i;

	for (i = 0; i <= HIST_BOUNDS; i++)
		out->n[i] += h->n[i];
	out->count += h->count;
	out->sum_ns += h->sum_ns;
}

/* ---- the figures ---- */

static void
render_listeners(struct text *t, const struct config *c)
{
	static const struct {
		const char *name, *type, *help;
		size_t off;
	} m[] = {
		{ "riptide_l4proxy_listener_connections_total", "counter", "Clients accepted.",
				offsetof(struct listener, conns) },
		{ "riptide_l4proxy_listener_active_connections", "gauge",
				"Pairs open now (admitted clients).",
				offsetof(struct listener, active) },
		{ "riptide_l4proxy_listener_refused_total", "counter",
				"Clients reset by a limit (max_conns, max_rate, max_pairs, queue timeout).",
				offsetof(struct listener, refused) },
		{ "riptide_l4proxy_listener_no_backend_total", "counter",
				"Clients reset because no backend could take them.",
				offsetof(struct listener, no_backend) },
		{ "riptide_l4proxy_listener_queued_total", "counter",
				"Clients that waited in the listener's queue (over_limit = queue).",
				offsetof(struct listener, queued) },
		{ "riptide_l4proxy_listener_waiting", "gauge", "Clients waiting in a queue now.",
				offsetof(struct listener, queued_now) },
		{ "riptide_l4proxy_listener_queue_timeouts_total", "counter",
				"Clients reset after queue_timeout_ms.",
				offsetof(struct listener, queue_timeouts) },
		{ "riptide_l4proxy_listener_proxy_headers_total", "counter",
				"PROXY headers read from clients (accept_proxy): their client used.",
				offsetof(struct listener, proxied) },
	};
	struct listener sum[MAX_LISTENERS];
	char name[2 * NAME_LEN + 8];
	uint32_t i, k;

	for (i = 0; i < c->nlisteners; i++)
		lanes_listener_sum(i, &sum[i]);
	for (k = 0; k < RTE_DIM(m); k++) {
		family(t, m[k].name, m[k].type, m[k].help);
		for (i = 0; i < c->nlisteners; i++) {
			uint64_t v;

			if (c->ls[i].retired)
				continue;
			memcpy(&v, (const uint8_t *)&sum[i] + m[k].off, sizeof(v));
			tx(t, "%s{listener=\"%s\"} %" PRIu64 "\n", m[k].name,
					esc(name, sizeof(name), c->ls[i].name), v);
		}
	}
	family(t, "riptide_l4proxy_connections_ended_total", "counter",
			"Pairs ended, by cause (client_fin, backend_fin: both sides closed, that one first; the others reset both).");
	for (i = 0; i < c->nlisteners; i++)
		for (k = 0; !c->ls[i].retired && k < END_MAX; k++)
			tx(t,
					"riptide_l4proxy_connections_ended_total{listener=\"%s\",cause=\"%s\"} "
					"%" PRIu64 "\n",
					esc(name, sizeof(name), c->ls[i].name), pair_end_names[k],
					sum[i].ends[k]);
	family(t, "riptide_l4proxy_connection_duration_seconds", "histogram",
			"From accept to end, of pairs that reached a backend.");
	for (i = 0; i < c->nlisteners; i++) {
		char labels[3 * NAME_LEN];

		if (c->ls[i].retired)
			continue;
		snprintf(labels, sizeof(labels), "listener=\"%s\"",
				esc(name, sizeof(name), c->ls[i].name));
		histogram(t, "riptide_l4proxy_connection_duration_seconds", labels,
				&sum[i].duration, hist_duration_ns);
	}
}

struct be_fig {
	const char *name, *type, *help;
};

static void
render_backends(struct text *t, const struct config *c)
{
	static const struct be_fig m[] = {
		{ "riptide_l4proxy_backend_up", "gauge",
				"1 if the health checks say up (or the pool has none)." },
		{ "riptide_l4proxy_backend_draining", "gauge",
				"1 if disabled: no new connections." },
		{ "riptide_l4proxy_backend_weight", "gauge", "Its weight." },
		{ "riptide_l4proxy_backend_connections_total", "counter",
				"Connections made to it." },
		{ "riptide_l4proxy_backend_active_connections", "gauge", "Pairs on it now." },
		{ "riptide_l4proxy_backend_connect_failures_total", "counter",
				"Connects refused, unreachable or timed out (each retried elsewhere)." },
		{ "riptide_l4proxy_backend_sent_bytes_total", "counter",
				"Bytes from clients to it (counted as each pair ends)." },
		{ "riptide_l4proxy_backend_received_bytes_total", "counter",
				"Bytes from it to clients (counted as each pair ends)." },
	};
	char pn[2 * NAME_LEN + 8], a[32];
	uint32_t i, b;
	size_t k;

	for (k = 0; k < RTE_DIM(m); k++) {
		family(t, m[k].name, m[k].type, m[k].help);
		for (i = 0; i < c->npools; i++) {
			const struct pool *p = &c->pools[i];

			for (b = 0; b < p->lb.n; b++) {
				const struct lb_backend *be = &p->lb.be[b];
				struct backend_stats s;
				uint32_t active;
				uint64_t v[] = { 0, 0, 0, 0, 0, 0, 0, 0 };

				if (be->removed)
					continue;
				lanes_backend_sum(i, b, &s, &active);
				v[0] = be->up;
				v[1] = be->draining;
				v[2] = be->weight;
				v[3] = s.conns;
				v[4] = active;
				v[5] = s.connect_failures;
				v[6] = s.bytes_up;
				v[7] = s.bytes_down;
				fmt_addr(a, sizeof(a), be->ip, be->port);
				tx(t, "%s{pool=\"%s\",backend=\"%s\"} %" PRIu64 "\n", m[k].name,
						esc(pn, sizeof(pn), p->name), a, v[k]);
			}
		}
	}
	family(t, "riptide_l4proxy_backend_connect_seconds", "histogram",
			"From SYN to established, of each successful connect to a backend.");
	for (i = 0; i < c->npools; i++) {
		struct hist h;
		char labels[3 * NAME_LEN];
		unsigned int l;

		if (c->pools[i].retired)
			continue;
		memset(&h, 0, sizeof(h));
		for (l = 0; l < nlanes; l++)
			if (lanes[l].cfg != NULL)
				hist_sum(&h, &lanes[l].cfg->pools[i].connect);
		snprintf(labels, sizeof(labels), "pool=\"%s\"",
				esc(pn, sizeof(pn), c->pools[i].name));
		histogram(t, "riptide_l4proxy_backend_connect_seconds", labels, &h,
				hist_connect_ns);
	}
}

static void
render_lcores(struct text *t)
{
	static const char *const names[] = { "riptide_l4proxy_lcore_pairs",
		"riptide_l4proxy_lcore_connections_total", "riptide_l4proxy_lcore_rx_frames_total",
		"riptide_l4proxy_lcore_tx_frames_total", "riptide_l4proxy_lcore_steered_kept_total",
		"riptide_l4proxy_lcore_steered_handed_on_total" };
	static const char *const help[] = { "Pairs open on the lcore now.",
		"Clients the lcore accepted.", "Frames its stack received.",
		"Frames its stack sent.", "Packets its steering kept (its own flows).",
		"Packets its steering handed to the lcore that owns their flow." };
	unsigned int l, k;
	uint32_t i;

	for (k = 0; k < RTE_DIM(names); k++) {
		family(t, names[k], k == 0 ? "gauge" : "counter", help[k]);
		for (l = 0; l < nlanes; l++) {
			const struct lane *ln = &lanes[l];
			uint64_t v = 0;

			if (ln->cfg == NULL || ln->host == NULL)
				continue;
			for (i = 0; k < 2 && i < ln->cfg->nlisteners; i++)
				v += k == 0 ? ln->cfg->ls[i].active : ln->cfg->ls[i].conns;
			if (k == 2)
				v = ln->host->st.stats.rx_frames;
			else if (k == 3)
				v = ln->host->st.stats.tx_frames;
			else if (k == 4)
				v = lane_kept(ln);
			else if (k == 5)
				v = lane_handed_on(ln);
			tx(t, "%s{lcore=\"%u\"} %" PRIu64 "\n", names[k], ln->lcore, v);
		}
	}
}

/* The stacks' figures, every lane summed. */
static void
render_stack(struct text *t)
{
	struct tcp_stats ts;
	struct stack_stats ss;
	unsigned int l, k;

	memset(&ts, 0, sizeof(ts));
	memset(&ss, 0, sizeof(ss));
	for (l = 0; l < nlanes; l++) {
		const struct stack_host *h = lanes[l].host;

		if (lanes[l].cfg == NULL || h == NULL)
			continue;
		for (k = 0; k < STACK_DROP_MAX; k++)
			ss.drops[k] += h->st.stats.drops[k];
		ts.retransmits += h->tcp.stats.retransmits;
		ts.rto_timeouts += h->tcp.stats.rto_timeouts;
		ts.challenge_acks += h->tcp.stats.challenge_acks;
		ts.syncookies_sent += h->tcp.stats.syncookies_sent;
		ts.orphans += h->tcp.stats.orphans;
		ts.tx_nombuf += h->tcp.stats.tx_nombuf;
	}
	family(t, "riptide_stack_drops_total", "counter",
			"Packets the stack dropped, by reason (TCP's among them: tcp_*).");
	for (k = 0; k < STACK_DROP_MAX; k++)
		tx(t, "riptide_stack_drops_total{reason=\"%s\"} %" PRIu64 "\n",
				stack_drop_name((enum stack_drop)k), ss.drops[k]);
	family(t, "riptide_tcp_retransmits_total", "counter", "Segments sent again.");
	tx(t, "riptide_tcp_retransmits_total %" PRIu64 "\n", ts.retransmits);
	family(t, "riptide_tcp_rto_timeouts_total", "counter", "Retransmission timeouts.");
	tx(t, "riptide_tcp_rto_timeouts_total %" PRIu64 "\n", ts.rto_timeouts);
	family(t, "riptide_tcp_challenge_acks_total", "counter", "Challenge ACKs sent (RFC 5961).");
	tx(t, "riptide_tcp_challenge_acks_total %" PRIu64 "\n", ts.challenge_acks);
	family(t, "riptide_tcp_syncookies_sent_total", "counter", "SYN cookies sent.");
	tx(t, "riptide_tcp_syncookies_sent_total %" PRIu64 "\n", ts.syncookies_sent);
	family(t, "riptide_tcp_tx_nombuf_total", "counter", "Sends that found no mbuf.");
	tx(t, "riptide_tcp_tx_nombuf_total %" PRIu64 "\n", ts.tx_nombuf);
	family(t, "riptide_tcp_orphans", "gauge", "Closed connections still sending their data.");
	tx(t, "riptide_tcp_orphans %" PRIu64 "\n", ts.orphans);
	if (lanes[0].cfg->ncluster > 0) {
		cluster_sum(&ts);
		family(t, "riptide_l4proxy_flows_moved_in_total", "counter",
				"Connections of ours that the router moved to another instance "
				"and that instance handed back.");
		tx(t, "riptide_l4proxy_flows_moved_in_total %" PRIu64 "\n", ts.flows_moved_in);
		family(t, "riptide_l4proxy_strays_forwarded_total", "counter",
				"Segments of another instance's connections handed to it.");
		tx(t, "riptide_l4proxy_strays_forwarded_total %" PRIu64 "\n", ts.strays_forwarded);
		family(t, "riptide_l4proxy_strays_dropped_total", "counter",
				"Segments a peer handed us for no connection of ours, or that we "
				"could not hand on (dropped, no RST).");
		tx(t, "riptide_l4proxy_strays_dropped_total %" PRIu64 "\n", ts.strays_dropped);
		family(t, "riptide_l4proxy_strays_flooded_total", "counter",
				"Segments without timestamps of no connection here, copied to every "
				"other instance.");
		tx(t, "riptide_l4proxy_strays_flooded_total %" PRIu64 "\n", ts.strays_flooded);
	}
}

void
metrics_render(struct text *t)
{
	const struct config *c = lanes[0].cfg;

	family(t, "riptide_l4proxy_lcores", "gauge", "Lanes (lcores) the proxy runs on.");
	tx(t, "riptide_l4proxy_lcores %u\n", nlanes);
	render_listeners(t, c);
	render_backends(t, c);
	render_lcores(t);
	render_stack(t);
	connlog_metrics(t);
}

/* ---- the endpoint ---- */

enum msession_state {
	MS_HEAD = 0,
	MS_WRITE,
};

struct msession {
	struct ex_future base;
	struct tcp_conn *c;
	enum msession_state state;
	struct tcp_lines lines;
	struct tcp_write w;
	struct ex_sleep deadline;
	unsigned int nlines;
	int status; /* 0 until the request line is read */
	bool head; /* a HEAD request: no body */
	struct text out;
	char in[METRICS_LINE_CAP];
};

static _Thread_local struct ex_slab *msessions;
static _Thread_local struct tcp_serve msrv;
static _Thread_local bool msrv_on;

/* The request line: "METHOD PATH HTTP/1.x". */
static void
request_line(struct msession *s, const char *line)
{
	char method[16], path[256], version[16];

	if (sscanf(line, "%15s %255s %15s", method, path, version) != 3 ||
			strncmp(version, "HTTP/1.", 7) != 0) {
		s->status = 400;
		return;
	}
	s->head = strcmp(method, "HEAD") == 0;
	if (strcmp(method, "GET") != 0 && !s->head)
		s->status = 405;
	else if (strcmp(path, "/metrics") != 0 && strncmp(path, "/metrics?", 9) != 0)
		s->status = 404;
	else
		s->status = 200;
}

/* The whole response in s->out: the head, then the body (left out for HEAD). */
static void
respond(struct msession *s)
{
	static const char *const reason[] = {
		[0] = "OK", [1] = "Bad Request", [2] = "Not Found", [3] = "Method Not Allowed"
	};
	struct text body;
	int r = s->status == 200 ? 0 : s->status == 400 ? 1 : s->status == 404 ? 2 : 3;

	memset(&body, 0, sizeof(body));
	if (s->status == 200)
		metrics_render(&body);
	else
		tx(&body, "l4proxy: %s; the metrics are at GET /metrics\n", reason[r]);
	tx(&s->out,
			"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			"Connection: close\r\n\r\n",
			s->status, reason[r],
			s->status == 200 ? "text/plain; version=0.0.4; charset=utf-8"
					 : "text/plain; charset=utf-8",
			body.len);
	if (!s->head && body.len > 0)
		tx(&s->out, "%.*s", (int)body.len, body.buf);
	free(body.buf);
}

/* The session's end: close after a whole response, else reset. */
static enum ex_poll
msession_end(struct msession *s, bool ok)
{
	if (!ex_future_is_done(&s->deadline.base))
		ex_future_drop(&s->deadline.base);
	free(s->out.buf);
	s->out.buf = NULL;
	if (ok)
		tcp_close(s->c);
	else
		tcp_abort(s->c);
	s->c = NULL;
	return EX_READY;
}

static enum ex_poll
msession_poll(struct ex_future *f, struct ex_context *cx)
{
	struct msession *s = EX_CONTAINER_OF(f, struct msession, base);
	union ex_item line;

	while (s->state == MS_HEAD) {
		enum ex_next next = ex_stream_poll_next(&s->lines.base, cx, &line);

		if (next == EX_NEXT_PENDING) {
			if (ex_future_poll(&s->deadline.base, cx) == EX_PENDING)
				return EX_PENDING;
			return msession_end(s, false); /* too slow to ask */
		}
		if (next == EX_NEXT_END) /* closed, reset, or a line too long */
			return msession_end(s, false);
		if (s->nlines++ == 0) {
			request_line(s, line.ptr);
			continue;
		}
		if (s->lines.line_len != 0)
			continue; /* a header: none matters here */
		respond(s);
		if (s->out.oom)
			return msession_end(s, false);
		tcp_write_init(&s->w, s->c, s->out.buf, (uint32_t)s->out.len);
		s->state = MS_WRITE;
	}
	if (ex_await(&s->w.base, cx) == EX_PENDING) {
		if (ex_future_poll(&s->deadline.base, cx) == EX_PENDING)
			return EX_PENDING;
		ex_future_drop(&s->w.base);
		return msession_end(s, false); /* the scraper stopped reading */
	}
	return msession_end(s, s->w.base.result == (int32_t)s->out.len);
}

static void
msession_drop(struct ex_future *f)
{
	struct msession *s = EX_CONTAINER_OF(f, struct msession, base);

	if (s->state == MS_WRITE && !ex_future_is_done(&s->w.base))
		ex_future_drop(&s->w.base);
	ex_stream_drop(&s->lines.base);
	if (!ex_future_is_done(&s->deadline.base))
		ex_future_drop(&s->deadline.base);
	free(s->out.buf);
	s->out.buf = NULL;
	if (s->c != NULL)
		tcp_abort(s->c);
}

static const struct ex_future_ops msession_ops = {
	.poll = msession_poll,
	.drop = msession_drop,
	.name = "l4_metrics",
};

static struct ex_future *
msession_start(void *slot, struct tcp_conn *c, void *arg)
{
	struct msession *s = slot;

	(void)arg;
	ex_future_init(&s->base, &msession_ops);
	s->c = c;
	tcp_lines_init(&s->lines, c, s->in, sizeof(s->in));
	ex_sleep_init(&s->deadline, (uint64_t)METRICS_DEADLINE_MS * EX_NS_PER_MS);
	return &s->base;
}

int
metrics_start(bool say)
{
	int rc;

	if (cfg.metrics_port == 0)
		return 0;
	msessions = EX_SLAB_CREATE(host.ex, "l4proxy_metrics", struct msession, METRICS_SESSIONS);
	if (msessions == NULL)
		return -ENOMEM;
	rc = tcp_serve_start(&msrv, &host.tcp, cfg.ip, cfg.metrics_port, 64, msessions,
			msession_start, NULL);
	if (rc != 0) {
		fprintf(stderr, "l4proxy: metrics port %u: %s\n", cfg.metrics_port, strerror(-rc));
		ex_slab_free(msessions);
		msessions = NULL;
		return rc;
	}
	msrv_on = true;
	if (say)
		printf("l4proxy: metrics on http://%u.%u.%u.%u:%u/metrics (Prometheus)\n",
				cfg.ip >> 24, (cfg.ip >> 16) & 255, (cfg.ip >> 8) & 255,
				cfg.ip & 255, cfg.metrics_port);
	return 0;
}

void
metrics_stop(void)
{
	if (msrv_on) {
		tcp_serve_close(&msrv);
		msrv_on = false;
	}
	ex_slab_free(msessions);
	msessions = NULL;
}
