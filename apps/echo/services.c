/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * services.c - echo's TCP services: four future types, one per service,
 * each started by its service's tcp_serve in a slab slot per connection.
 */
#include "services.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_common.h>
#include <rte_mbuf.h>

#include "ex_combinator.h"
#include "sha256.h"

#define HTTP_REQ_MAX 4096

const char *const svc_names[SVC_MAX] = { "echo", "discard", "source", "http" };
_Thread_local struct svc_stats svc_stats[SVC_MAX]; /* each lane's own */
uint8_t source_pattern[SOURCE_CHUNK];

static struct svc_config svc_cfg;
static char *http_resp[2]; /* keep-alive, close */
static uint32_t http_resp_len[2];

/* A session's end: FIN after a clean one, RST after an error; counted. */
static void
session_end(enum svc svc, struct tcp_conn **c, int rc)
{
	if (rc < 0) {
		svc_stats[svc].failed++;
		tcp_abort(*c);
	} else {
		svc_stats[svc].completed++;
		tcp_close(*c);
	}
	*c = NULL;
}

/* ---- echo: the connection's receive stream forwarded into its send sink ---- */

struct echo_session {
	struct ex_future base;
	struct tcp_conn *c;
	struct tcp_rx_stream rs;
	struct tcp_tx_sink ks;
	struct ex_forward fw;
};

static void
mbuf_release(union ex_item it, void *arg)
{
	(void)arg;
	rte_pktmbuf_free(it.ptr);
}

static enum ex_poll
echo_poll(struct ex_future *f, struct ex_context *cx)
{
	struct echo_session *s = EX_CONTAINER_OF(f, struct echo_session, base);

	if (ex_await(&s->fw.base, cx) == EX_PENDING)
		return EX_PENDING;
	session_end(SVC_ECHO, &s->c, s->fw.base.result);
	return EX_READY;
}

static void
echo_drop(struct ex_future *f)
{
	struct echo_session *s = EX_CONTAINER_OF(f, struct echo_session, base);

	ex_future_drop(&s->fw.base); /* cancelled at shutdown: a RST */
	tcp_abort(s->c);
}

static const struct ex_future_ops echo_ops = { echo_poll, echo_drop, "echo_session" };

static void
echo_start(struct echo_session *s, struct tcp_conn *c)
{
	ex_future_init(&s->base, &echo_ops);
	s->c = c;
	tcp_rx_stream_init(&s->rs, c);
	tcp_tx_sink_init(&s->ks, c);
	ex_forward_init(&s->fw, &s->rs.base, &s->ks.base, mbuf_release, NULL);
}

/* ---- discard: read and drop (and hash, when asked) until the FIN ---- */

struct discard_session {
	struct ex_future base;
	struct tcp_conn *c;
	struct tcp_recv recv;
	struct sha256 sum;
};

static enum ex_poll
discard_poll(struct ex_future *f, struct ex_context *cx)
{
	struct discard_session *s = EX_CONTAINER_OF(f, struct discard_session, base);
	const struct rte_mbuf *seg;
	int rc;

	for (;;) {
		if (ex_await(&s->recv.base, cx) == EX_PENDING)
			return EX_PENDING;
		rc = s->recv.base.result;
		if (rc <= 0)
			break;
		svc_stats[SVC_DISCARD].bytes += (uint64_t)rc;
		if (svc_cfg.discard_sha256)
			for (seg = s->recv.m; seg != NULL; seg = seg->next)
				sha256_update(&s->sum, rte_pktmbuf_mtod(seg, const void *),
						seg->data_len);
		rte_pktmbuf_free(s->recv.m);
		tcp_recv_init(&s->recv, s->c, 0);
	}
	if (svc_cfg.discard_sha256 && rc == 0) {
		uint64_t len = s->sum.len; /* before the padding */
		char hex[65];

		sha256_hex(&s->sum, hex);
		printf("echo: tcp discard: %" PRIu64 " bytes sha256 %s\n", len, hex);
		fflush(stdout);
	}
	session_end(SVC_DISCARD, &s->c, rc);
	return EX_READY;
}

static void
discard_drop(struct ex_future *f)
{
	struct discard_session *s = EX_CONTAINER_OF(f, struct discard_session, base);

	ex_future_drop(&s->recv.base);
	tcp_abort(s->c);
}

static const struct ex_future_ops discard_ops = { discard_poll, discard_drop, "discard_session" };

static void
discard_start(struct discard_session *s, struct tcp_conn *c)
{
	ex_future_init(&s->base, &discard_ops);
	s->c = c;
	sha256_init(&s->sum);
	tcp_recv_init(&s->recv, c, 0);
}

/* ---- source: send source_bytes, half-close, read until the peer's FIN ---- */

struct source_session {
	struct ex_future base;
	struct tcp_conn *c;
	enum {
		SOURCE_WRITE,
		SOURCE_DRAIN
	} state;
	uint64_t left;
	struct tcp_write write;
	struct tcp_recv recv;
};

static enum ex_poll
source_poll(struct ex_future *f, struct ex_context *cx)
{
	struct source_session *s = EX_CONTAINER_OF(f, struct source_session, base);
	int rc;

	while (s->state == SOURCE_WRITE) {
		if (ex_await(&s->write.base, cx) == EX_PENDING)
			return EX_PENDING;
		rc = s->write.base.result;
		if (rc < 0) {
			session_end(SVC_SOURCE, &s->c, rc);
			return EX_READY;
		}
		s->left -= (uint64_t)rc;
		svc_stats[SVC_SOURCE].bytes += (uint64_t)rc;
		if (s->left == 0) {
			tcp_shutdown(s->c);
			tcp_recv_init(&s->recv, s->c, 0);
			s->state = SOURCE_DRAIN;
			break;
		}
		tcp_write_init(&s->write, s->c, source_pattern,
				(uint32_t)RTE_MIN(s->left, (uint64_t)SOURCE_CHUNK));
	}
	for (;;) {
		if (ex_await(&s->recv.base, cx) == EX_PENDING)
			return EX_PENDING;
		rc = s->recv.base.result;
		if (rc <= 0) {
			session_end(SVC_SOURCE, &s->c, rc);
			return EX_READY;
		}
		rte_pktmbuf_free(s->recv.m);
		tcp_recv_init(&s->recv, s->c, 0);
	}
}

static void
source_drop(struct ex_future *f)
{
	struct source_session *s = EX_CONTAINER_OF(f, struct source_session, base);

	ex_future_drop(s->state == SOURCE_WRITE ? &s->write.base : &s->recv.base);
	tcp_abort(s->c);
}

static const struct ex_future_ops source_ops = { source_poll, source_drop, "source_session" };

static void
source_start(struct source_session *s, struct tcp_conn *c)
{
	ex_future_init(&s->base, &source_ops);
	s->c = c;
	s->state = SOURCE_WRITE;
	s->left = svc_cfg.source_bytes;
	tcp_write_init(&s->write, c, source_pattern,
			(uint32_t)RTE_MIN(s->left, (uint64_t)SOURCE_CHUNK));
}

/* ---- HTTP: read a request head, answer, keep the connection or close ---- */

struct http_session {
	struct ex_future base;
	struct tcp_conn *c;
	enum {
		HTTP_READ,
		HTTP_WRITE
	} state;
	struct tcp_read rd;
	struct tcp_write w;
	uint32_t have;
	bool close_after;
	char req[HTTP_REQ_MAX];
};

/* Case-insensitive search for a header token in a request head. */
static bool
head_has(const char *head, uint32_t len, const char *tok)
{
	size_t n = strlen(tok);
	uint32_t i;

	for (i = 0; i + n <= len; i++)
		if (strncasecmp(head + i, tok, n) == 0)
			return true;
	return false;
}

/* A whole head in req: queue the answer. false: read more first. */
static bool
http_answer(struct http_session *s)
{
	char *end;
	uint32_t head;

	s->req[s->have] = '\0';
	end = strstr(s->req, "\r\n\r\n");
	if (end == NULL)
		return false;
	head = (uint32_t)(end - s->req) + 4;
	/* HTTP/1.1 keeps the connection unless told to close; 1.0 closes
	 * unless told to keep it. */
	s->close_after = head_has(s->req, head, "connection: close") ||
			 (head_has(s->req, head, "HTTP/1.0") &&
					 !head_has(s->req, head, "keep-alive"));
	memmove(s->req, s->req + head, s->have - head);
	s->have -= head;
	svc_stats[SVC_HTTP].requests++;
	tcp_write_init(&s->w, s->c, http_resp[s->close_after], http_resp_len[s->close_after]);
	s->state = HTTP_WRITE;
	return true;
}

static enum ex_poll
http_poll(struct ex_future *f, struct ex_context *cx)
{
	struct http_session *s = EX_CONTAINER_OF(f, struct http_session, base);
	int rc;

	for (;;) {
		switch (s->state) {
		case HTTP_READ:
			if (http_answer(s))
				continue;
			if (s->have >= HTTP_REQ_MAX - 1) {
				session_end(SVC_HTTP, &s->c,
						-EMSGSIZE); /* a head this long: not ours */
				return EX_READY;
			}
			if (ex_await(&s->rd.base, cx) == EX_PENDING)
				return EX_PENDING;
			if (s->rd.base.result <= 0) {
				session_end(SVC_HTTP, &s->c, s->rd.base.result);
				return EX_READY;
			}
			s->have += (uint32_t)s->rd.base.result;
			tcp_read_init(&s->rd, s->c, s->req + s->have, HTTP_REQ_MAX - 1 - s->have);
			continue;
		case HTTP_WRITE:
			if (ex_await(&s->w.base, cx) == EX_PENDING)
				return EX_PENDING;
			rc = s->w.base.result;
			if (rc >= 0 && rc != (int)s->w.len)
				rc = -ENOBUFS; /* a short write: the response is cut */
			if (rc < 0 || s->close_after) {
				session_end(SVC_HTTP, &s->c, rc < 0 ? rc : 0);
				return EX_READY;
			}
			tcp_read_init(&s->rd, s->c, s->req + s->have, HTTP_REQ_MAX - 1 - s->have);
			s->state = HTTP_READ;
			continue;
		}
	}
}

static void
http_drop(struct ex_future *f)
{
	struct http_session *s = EX_CONTAINER_OF(f, struct http_session, base);

	ex_future_drop(s->state == HTTP_READ ? &s->rd.base : &s->w.base);
	tcp_abort(s->c);
}

static const struct ex_future_ops http_ops = { http_poll, http_drop, "http_session" };

static void
http_start(struct http_session *s, struct tcp_conn *c)
{
	ex_future_init(&s->base, &http_ops);
	s->c = c;
	s->state = HTTP_READ;
	tcp_read_init(&s->rd, c, s->req, HTTP_REQ_MAX - 1);
}

/* ---- the services ---- */

size_t
session_slot_size(void)
{
	return RTE_MAX(RTE_MAX(sizeof(struct echo_session), sizeof(struct discard_session)),
			RTE_MAX(sizeof(struct source_session), sizeof(struct http_session)));
}

static int
build_http(uint32_t body_len)
{
	int k;

	for (k = 0; k < 2; k++) {
		char head[256];
		int n = snprintf(head, sizeof(head),
				"HTTP/1.1 200 OK\r\nServer: riptide\r\nContent-Type: text/plain\r\n"
				"Content-Length: %u\r\n%s\r\n",
				body_len, k == 1 ? "Connection: close\r\n" : "");
		uint32_t i;

		http_resp_len[k] = (uint32_t)n + body_len;
		http_resp[k] = malloc(http_resp_len[k]);
		if (http_resp[k] == NULL)
			return -ENOMEM;
		memcpy(http_resp[k], head, (size_t)n);
		if (body_len == 13)
			memcpy(http_resp[k] + n, "hello, world\n", 13);
		else
			for (i = 0; i < body_len; i++)
				http_resp[k][(uint32_t)n + i] =
						i % 64 == 63 ? '\n' : 'a' + (char)(i % 26);
	}
	return 0;
}

int
services_init(const struct svc_config *cfg)
{
	uint32_t i;

	svc_cfg = *cfg;
	for (i = 0; i < SOURCE_CHUNK; i++)
		source_pattern[i] = (uint8_t)(i % 64 == 63 ? '\n' : 'A' + i % 26);
	return build_http(cfg->http_body);
}

void
services_fini(void)
{
	free(http_resp[0]);
	free(http_resp[1]);
	http_resp[0] = http_resp[1] = NULL;
}

/* tcp_serve's start, one per service: the session of its type in slot. */
static struct ex_future *
start_echo(void *slot, struct tcp_conn *c, void *arg)
{
	(void)arg;
	echo_start(slot, c);
	return slot; /* each session type begins with its future */
}

static struct ex_future *
start_discard(void *slot, struct tcp_conn *c, void *arg)
{
	(void)arg;
	discard_start(slot, c);
	return slot;
}

static struct ex_future *
start_source(void *slot, struct tcp_conn *c, void *arg)
{
	(void)arg;
	source_start(slot, c);
	return slot;
}

static struct ex_future *
start_http(void *slot, struct tcp_conn *c, void *arg)
{
	(void)arg;
	http_start(slot, c);
	return slot;
}

int
service_start(struct tcp_serve *srv, struct tcp_stack *tcp, enum svc svc, uint16_t port,
		struct ex_slab *sessions)
{
	static tcp_session_start_fn *const start[SVC_MAX] = { start_echo, start_discard,
		start_source, start_http };

	return tcp_serve_start(srv, tcp, 0, port, 1024, sessions, start[svc], NULL);
}
