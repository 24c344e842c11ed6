/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * connlog.c - l4proxy's connection logs: one line per pair that ended, with
 * HAProxy's tcplog as the model for what it says:
 *
 *   2026-12-03T09:20:01.123456Z id=69509a1d0000000000000001 lcore=0
 *   listener=web client=198.18.0.9:40000 pool=web backend=198.18.0.21:80
 *   wait_ms=0.012 connect_ms=0.210 duration_ms=15.301 bytes_up=120
 *   bytes_down=4096 retries=0 end=client_fin
 *
 * (one line; backend=- and connect_ms=- for a client that never reached a
 * backend). wait_ms is accept to the first connect (the queues), connect_ms
 * the successful connect, duration_ms accept to end; id is the pair's
 * unique ID (also in the PROXY v2 header to its backend); bytes_up flowed from
 * the client to the backend, bytes_down back; retries counts failed
 * connects before this one; end is the cause (pair_end_names[]).
 *
 * Off the fast path: the lane only copies a 72-byte record into its own
 * ring (single producer, single consumer); a control thread (DPDK's
 * rte_ctrl_thread_create(), so it runs on the CPUs no lcore uses) drains
 * every ring, formats the lines and writes them to the file (appended,
 * flushed after each batch) or to syslog (local0.info, under the EAL's
 * ident). A slow
 * disk never stalls an lcore: a full ring drops the record and counts it
 * (lost). log_rate caps the lines a second, every lane together (each lane
 * a share); records over it are counted (suppressed), never queued.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <rte_lcore.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "ex_executor.h"
#include "l4proxy.h"
#include "pair.h"

#define LOG_RING_SIZE 8192
#define LOG_BURST 64

struct conn_rec {
	uint64_t wall_ns; /* the end, CLOCK_REALTIME */
	uint64_t wait_ns, connect_ns, duration_ns; /* connect_ns UINT64_MAX: never connected */
	uint64_t up, down;
	uint64_t seq; /* the pair's unique ID's count */
	uint32_t cli_ip, be_ip;
	uint16_t cli_port, be_port;
	uint8_t listener, pool, cause, retries;
};
_Static_assert(sizeof(struct conn_rec) == 72, "a log record: 72 bytes");

/* Per lane: its ring and what it could not log; written by the lane. */
struct log_lane {
	struct rte_ring *ring;
	uint64_t lost, suppressed;
};

static struct log_lane *log_lanes;
static unsigned int log_nlanes;
static FILE *log_file;
static bool log_syslog;
static pthread_t log_thread;
static bool log_thread_on;
static uint32_t log_stop; /* atomic */
static uint64_t log_lines, log_write_errors; /* the writer's */

static _Thread_local struct log_lane *my_log;
static _Thread_local int64_t wall_offset_ns; /* CLOCK_REALTIME - the executor's clock */
static _Thread_local struct rate_limit log_rl;

static uint64_t
realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A record's start, if this lane logs and log_rate lets one more through:
 * r zeroed, its end time set. @return false (counted if over the rate). */
static bool
rec_start(struct conn_rec *r, uint64_t now_ns)
{
	if (my_log == NULL)
		return false;
	if (!rate_limit_take(&log_rl, now_ns)) {
		my_log->suppressed++;
		return false;
	}
	memset(r, 0, sizeof(*r));
	r->wall_ns = (uint64_t)((int64_t)now_ns + wall_offset_ns);
	r->connect_ns = UINT64_MAX; /* never connected, unless said below */
	return true;
}

static void
rec_push(struct conn_rec *r)
{
	if (rte_ring_sp_enqueue_elem(my_log->ring, r, sizeof(*r)) != 0)
		my_log->lost++;
}

void
conn_log(const struct pair *p, enum pair_end_cause cause, uint64_t now_ns)
{
	struct conn_rec r;

	if (!rec_start(&r, now_ns))
		return;
	r.wait_ns = p->t_connect != 0 ? p->t_connect - p->t_accept : now_ns - p->t_accept;
	if (p->t_connected != 0)
		r.connect_ns = p->t_connected - p->t_connect;
	r.duration_ns = now_ns - p->t_accept;
	r.up = p->bytes_up;
	r.down = p->bytes_down;
	r.cli_ip = p->cli_ip;
	r.cli_port = p->cli_port;
	if (p->be >= 0 && p->t_connected != 0) {
		r.be_ip = p->pool->lb.be[p->be].ip;
		r.be_port = p->pool->lb.be[p->be].port;
	}
	r.listener = (uint8_t)(p->ls - cfg.ls);
	r.pool = (uint8_t)(p->pool - cfg.pools);
	r.cause = (uint8_t)cause;
	r.retries = p->retries;
	r.seq = p->seq;
	rec_push(&r);
}

void
conn_log_refused(const struct listener *ls, struct tcp_conn *c, uint64_t now_ns)
{
	struct conn_rec r;
	uint32_t lip;
	uint16_t lport;

	if (!rec_start(&r, now_ns))
		return;
	tcp_conn_addr(c, &lip, &lport, &r.cli_ip, &r.cli_port);
	r.listener = (uint8_t)(ls - cfg.ls);
	r.pool = (uint8_t)(ls->pool - cfg.pools);
	r.cause = END_LIMIT;
	r.seq = pair_next_seq();
	rec_push(&r);
}

/* ---- the writer thread ---- */

static void
ms(char *out, size_t len, uint64_t ns)
{
	if (ns == UINT64_MAX)
		snprintf(out, len, "-");
	else
		snprintf(out, len, "%.3f", (double)ns / 1e6);
}

static void
write_rec(const struct conn_rec *r, unsigned int lane)
{
	const struct config *c = lanes[0].cfg;
	char line[512], stamp[40], cli[32], be[32], wait[24], conn[24], dur[24], id[25];
	time_t sec = (time_t)(r->wall_ns / 1000000000u);
	struct tm tm;
	int n;

	gmtime_r(&sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fmt_addr(cli, sizeof(cli), r->cli_ip, r->cli_port);
	if (r->be_ip != 0)
		fmt_addr(be, sizeof(be), r->be_ip, r->be_port);
	else
		snprintf(be, sizeof(be), "-");
	ms(wait, sizeof(wait), r->wait_ns);
	ms(conn, sizeof(conn), r->connect_ns);
	ms(dur, sizeof(dur), r->duration_ns);
	unique_id(id, lanes[lane].lcore, r->seq);
	n = snprintf(line, sizeof(line),
			"id=%s lcore=%u listener=%s client=%s pool=%s backend=%s wait_ms=%s "
			"connect_ms=%s duration_ms=%s bytes_up=%" PRIu64 " bytes_down=%" PRIu64
			" retries=%u end=%s",
			id, lanes[lane].lcore,
			r->listener < c->nlisteners ? c->ls[r->listener].name : "?", cli,
			r->pool < c->npools ? c->pools[r->pool].name : "?", be, wait, conn, dur,
			r->up, r->down, r->retries,
			r->cause < END_MAX ? pair_end_names[r->cause] : "?");
	if (n < 0)
		return;
	if (log_syslog) {
		syslog(LOG_LOCAL0 | LOG_INFO, "%s", line);
	} else if (fprintf(log_file, "%s.%06uZ %s\n", stamp,
				   (unsigned int)(r->wall_ns % 1000000000u / 1000u), line) < 0) {
		log_write_errors++;
		return;
	}
	__atomic_store_n(&log_lines, log_lines + 1, __ATOMIC_RELAXED);
}

static void *
writer_main(void *arg)
{
	struct conn_rec recs[LOG_BURST];
	struct timespec nap = { .tv_sec = 0, .tv_nsec = 10 * 1000000L };

	(void)arg;
	for (;;) {
		bool stopping = __atomic_load_n(&log_stop, __ATOMIC_ACQUIRE) != 0;
		unsigned int l, i, n, total = 0;

		for (l = 0; l < log_nlanes; l++) {
			n = rte_ring_sc_dequeue_burst_elem(
					log_lanes[l].ring, recs, sizeof(recs[0]), LOG_BURST, NULL);
			for (i = 0; i < n; i++)
				write_rec(&recs[i], l);
			total += n;
		}
		if (total > 0) {
			if (log_file != NULL && fflush(log_file) != 0)
				log_write_errors++;
			continue;
		}
		if (stopping)
			return NULL; /* every ring empty after the lanes stopped */
		nanosleep(&nap, NULL);
	}
}

int
connlog_init(void)
{
	unsigned int l;
	char name[RTE_RING_NAMESIZE];

	if (cfg.log[0] == '\0')
		return 0;
	log_syslog = strcmp(cfg.log, "syslog") == 0;
	/* syslog: the EAL opened it (its ident, with the pid); each line says
	 * its own facility, so the EAL's messages keep theirs. */
	if (!log_syslog && (log_file = fopen(cfg.log, "a")) == NULL) {
		fprintf(stderr, "l4proxy: log = %s: %s\n", cfg.log, strerror(errno));
		return -1;
	}
	log_nlanes = nlanes;
	log_lanes = calloc(nlanes, sizeof(*log_lanes));
	if (log_lanes == NULL)
		goto nomem;
	for (l = 0; l < nlanes; l++) {
		snprintf(name, sizeof(name), "l4log%u", l);
		log_lanes[l].ring = rte_ring_create_elem(name, sizeof(struct conn_rec),
				LOG_RING_SIZE, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (log_lanes[l].ring == NULL)
			goto nomem;
	}
	if (rte_ctrl_thread_create(&log_thread, "l4proxy-log", NULL, writer_main, NULL) != 0) {
		fprintf(stderr, "l4proxy: cannot start the log writer thread\n");
		connlog_fini();
		return -1;
	}
	log_thread_on = true;
	printf("l4proxy: connection logs to %s%s\n", log_syslog ? "syslog (local0.info)" : cfg.log,
			cfg.log_rate > 0 ? ", at most log_rate lines a second" : "");
	return 0;
nomem:
	fprintf(stderr, "l4proxy: no memory for the connection log rings\n");
	connlog_fini();
	return -1;
}

void
connlog_lane_up(struct lane *l)
{
	uint32_t share;

	if (log_lanes == NULL)
		return;
	my_log = &log_lanes[l->idx];
	wall_offset_ns = (int64_t)realtime_ns() - (int64_t)ex_now_ns(host.ex);
	share = cfg.log_rate / nlanes + (l->idx < cfg.log_rate % nlanes ? 1 : 0);
	rate_limit_init(&log_rl, cfg.log_rate > 0 && share == 0 ? 1 : share, ex_now_ns(host.ex));
}

void
connlog_fini(void)
{
	uint64_t lost = 0, suppressed = 0;
	unsigned int l;

	if (log_thread_on) {
		__atomic_store_n(&log_stop, 1, __ATOMIC_RELEASE);
		pthread_join(log_thread, NULL);
		log_thread_on = false;
	}
	for (l = 0; log_lanes != NULL && l < log_nlanes; l++) {
		lost += log_lanes[l].lost;
		suppressed += log_lanes[l].suppressed;
		rte_ring_free(log_lanes[l].ring);
	}
	if (log_lanes != NULL)
		printf("l4proxy: connection logs: %" PRIu64 " lines written, %" PRIu64
		       " lost (ring full), %" PRIu64 " suppressed (log_rate), %" PRIu64
		       " write errors\n",
				log_lines, lost, suppressed, log_write_errors);
	free(log_lanes);
	log_lanes = NULL;
	if (log_file != NULL)
		fclose(log_file);
	log_file = NULL;
}

void
connlog_metrics(struct text *t)
{
	uint64_t lost = 0, suppressed = 0;
	unsigned int l;

	if (log_lanes == NULL)
		return;
	for (l = 0; l < log_nlanes; l++) {
		lost += log_lanes[l].lost;
		suppressed += log_lanes[l].suppressed;
	}
	tx(t,
			"# HELP riptide_l4proxy_log_lines_total Connection log lines written.\n"
			"# TYPE riptide_l4proxy_log_lines_total counter\n"
			"riptide_l4proxy_log_lines_total %" PRIu64 "\n",
			__atomic_load_n(&log_lines, __ATOMIC_RELAXED));
	tx(t,
			"# HELP riptide_l4proxy_log_lost_total Connection log lines lost: a lane's ring was "
			"full.\n# TYPE riptide_l4proxy_log_lost_total counter\n"
			"riptide_l4proxy_log_lost_total %" PRIu64 "\n",
			lost);
	tx(t,
			"# HELP riptide_l4proxy_log_suppressed_total Connection log lines left out by "
			"log_rate.\n# TYPE riptide_l4proxy_log_suppressed_total counter\n"
			"riptide_l4proxy_log_suppressed_total %" PRIu64 "\n",
			suppressed);
}
