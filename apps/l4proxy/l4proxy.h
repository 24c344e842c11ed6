/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * l4proxy.h - what l4proxy's files share: the configuration (pools,
 * listeners, global settings) and the entry points of each concern.
 *
 *   config.c    the INI file, flags' defaults, --check-config's printout
 *   ini.c       the INI text: the lint pass, the line of a key
 *   listener.c  the acceptors: a pair per client admitted
 *   limits.c    max_rate, max_conns, backend_max_conns: who is admitted, who
 *               waits in which queue, and for how long
 *   pair.c      one client and its backend: pick, connect, forward
 *   health.c    active checks: one task per backend
 *   stats.c     printed stats and the DPDK telemetry commands that read
 *   runtime.c   the runtime API: backends disabled, enabled, weighted,
 *               added and removed while the proxy runs
 *   cluster.c   several instances behind ECMP: moved flows handed to their
 *               owner, the VIPs' state for the BGP companion
 *   l4proxy.c   flags, the supervisor (drain, shutdown), main
 *
 *   lanes.c     more than one lcore: a lane (a whole proxy) per lcore, the
 *               control messages between them, figures summed over them
 *
 * One lane per lcore: cfg and host are each lane's own (thread-local: the
 * lane's lcore reads and writes them, no other); the other lanes' are
 * reached through lanes[] (figures, read only, and lane 0's config for
 * telemetry). Telemetry's thread reads counters and hands runtime requests
 * to lane 0's supervisor, which applies and broadcasts them.
 */
#ifndef RIPTIDE_L4PROXY_H
#define RIPTIDE_L4PROXY_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/queue.h>

#include "ex_channel.h"
#include "lb.h"
#include "proxyproto.h"
#include "ratelimit.h"
#include "stack_host.h"
#include "tcp.h"

#define MAX_LISTENERS 8
#define MAX_POOLS 8
#define NAME_LEN 32
#define CFG_MAX_SECTIONS (1 + MAX_POOLS + MAX_LISTENERS)

struct pair;
/* Clients waiting for room (a listener slot or a backend slot), oldest first. */
TAILQ_HEAD(pair_wq, pair);

/* What a listener does with a client over a connection limit. */
enum over_limit {
	OVER_LIMIT_RESET = 0, /* refuse it with a RST */
	OVER_LIMIT_QUEUE, /* hold it until there is room, up to queue_timeout_ms */
};

/* How a pair ended (its connection log's end=, and a counter per listener). */
enum pair_end_cause {
	END_CLIENT_FIN = 0, /* both sides closed, the client first: each FIN passed on */
	END_BACKEND_FIN, /* both sides closed, the backend first */
	END_CLIENT_RST, /* the client reset: the backend is reset too */
	END_BACKEND_RST, /* the backend reset: the client is reset too */
	END_CLIENT_TIMEOUT, /* the client stopped acknowledging (retransmissions ran out) */
	END_BACKEND_TIMEOUT,
	END_IDLE, /* nothing moved for idle_timeout_ms */
	END_NO_BACKEND, /* no backend usable, or every one failed to connect */
	END_QUEUE_TIMEOUT, /* waited queue_timeout_ms for a slot (over_limit = queue) */
	END_HEADER, /* the PROXY header could not be sent */
	END_ERROR, /* another error on either side */
	END_SHUTDOWN, /* still open after the drain timeout */
	END_NO_PAIR, /* no task could be spawned for it */
	END_PROXY_BAD, /* accept_proxy: no valid PROXY header within 3 s */
	END_PROXY_UNTRUSTED, /* accept_proxy: a source not in trusted_sources */
	END_LIMIT, /* refused at accept: max_conns (over_limit = reset), max_rate, max_pairs */
	END_MAX,
};
extern const char *const pair_end_names[END_MAX];

/* A latency histogram (Prometheus'): n[i] counts the values in
 * (bound[i-1], bound[i]], the last above every bound; each lane its own,
 * summed on read. */
#define HIST_BOUNDS 14
struct hist {
	uint64_t n[HIST_BOUNDS + 1];
	uint64_t count, sum_ns;
};
extern const uint64_t hist_connect_ns[HIST_BOUNDS], hist_duration_ns[HIST_BOUNDS];
void hist_add(struct hist *h, const uint64_t *bound, uint64_t ns);
/** Add h's counts into out. */
void hist_sum(struct hist *out, const struct hist *h);

struct backend_stats {
	uint64_t conns, connect_failures, bytes_up, bytes_down;
	uint32_t rise_run, fall_run;
};

/* What decides a backend's state and weight in the balancers, kept by lane 0
 * (health.c: backend_apply() turns it into lb_backend's up, draining and
 * weight, and tells the other lanes). */
struct backend_ctl {
	uint16_t weight; /* configured: the file, a flag, the runtime API */
	bool health_up; /* the health checks' verdict */
	bool admin_drain; /* the runtime API's disable */
	uint8_t agent_pct; /* the agent's N% (100 without an agent) */
	bool agent_down, agent_drain; /* the agent's "down"/"maint", "drain" */
	uint64_t ramp_from_ns; /* slow start: usable again since (0: no ramp) */
};

enum health_check {
	HEALTH_CHECK_TCP = 0, /* a connect */
	HEALTH_CHECK_HTTP, /* a request, and its status line */
};

struct pool {
	char name[NAME_LEN];
	struct lb lb;
	struct backend_stats bs[LB_MAX_BACKENDS];
	struct backend_ctl ctl[LB_MAX_BACKENDS];
	uint32_t connect_timeout_ms;
	uint32_t health_interval_ms, health_timeout_ms; /* interval 0: no checks */
	uint8_t rise, fall;
	enum health_check check;
	char http_check[160]; /* "METHOD PATH" */
	uint32_t http_status_lo, http_status_hi; /* a good answer's status */
	uint32_t agent_port, agent_interval_ms; /* port 0: no agent */
	uint32_t slow_start_ms; /* a backend back in use ramps its weight this long */
	uint8_t proxy_send; /* PROXY header to backends: 0 none, 1 v1, 2 v2 */
	uint32_t backend_max_conns;
	struct pair_wq wq; /* admitted clients waiting for a backend below its max_conns */
	struct hist connect; /* SYN to established, each successful backend connect */
	bool retired; /* left out of the configuration by a reload: its pairs run on */
};

struct listener {
	struct ex_future base; /* the acceptor */
	char name[NAME_LEN];
	uint32_t vip; /* a service address (ECMP, BGP); 0: the proxy's own */
	uint16_t port;
	struct pool *pool;
	struct tcp_listener l;
	struct tcp_accept acc;
	bool open;
	bool retired; /* left out of the configuration by a reload: closed */
	uint32_t max_conns, max_rate, idle_timeout_ms;
	enum over_limit over_limit;
	uint32_t queue_timeout_ms;
	bool accept_proxy; /* clients start with a PROXY header (v1 or v2) */
	struct pp_trust trusted; /* who may send one (none listed: anyone) */
	struct rate_limit rate; /* new connections per second (max_rate) */
	uint64_t conns, active, refused, no_backend;
	uint64_t queued_now, queued, queue_timeouts;
	uint64_t ends[END_MAX]; /* pairs ended, by cause */
	uint64_t proxied; /* accept_proxy: headers read, real client taken */
	struct hist duration; /* accept to end, of pairs that reached a backend */
	struct pair_wq wq; /* accepted clients waiting for active < max_conns */
};

struct config {
	uint32_t ip;
	uint8_t prefix;
	uint32_t gateway;
	uint32_t nlisteners, npools;
	struct listener ls[MAX_LISTENERS];
	struct pool pools[MAX_POOLS];
	double stats_interval, drain_timeout, duration;
	bool busy_poll;
	uint32_t idle_spin_us;
	uint32_t rx_coalesce_us; /* the executor's idle_coalesce_us; 0: none */
	uint32_t rx_coalesce_after; /* its idle_coalesce_after */
	uint32_t tx_hold_us;
	uint32_t max_pairs;
	uint32_t metrics_port; /* 0: no metrics endpoint */
	char log[256]; /* connection logs: a file, "syslog", or "" (off) */
	uint32_t log_rate; /* lines a second at most, every lane together (0: no limit) */
	/* Instances behind one router's ECMP (cluster.c): every one's own
	 * address, in the same order everywhere; this one's place + 1 is its id. */
	uint32_t cluster[TCP_CLUSTER_MAX];
	uint32_t ncluster;
	uint32_t withdraw_wait_ms; /* SIGTERM: VIPs withdrawn, serving this long, then the drain */
};

extern _Thread_local struct config cfg; /* config.c: this lane's */
extern _Thread_local struct stack_host
		host; /* l4proxy.c: this lane's port queue, executor, stack */

/* ---- lanes.c ---- */

/** One lcore's proxy. */
struct lane {
	unsigned int idx, lcore;
	struct config *cfg; /**< its cfg (NULL until it is up) */
	struct stack_host *host;
	struct ex_channel ctl; /**< from lane 0 (the others) */
	struct ex_future ctl_task; /**< reads ctl */
	bool ctl_on;
	uint64_t ctl_sent, ctl_received, ctl_lost; /**< sent by lane 0, applied by it */
	uint64_t kept, handed_on; /**< its steering figures, kept when it goes down */
};

/** What lane 0 tells the others. */
enum ctl_op {
	CTL_STOP = 1, /**< close the listeners (the drain) */
	CTL_BACKEND_UP, /**< a health check brought pool's backend up */
	CTL_BACKEND_DOWN,
	CTL_BACKEND_DRAIN, /**< no new connections to it */
	CTL_BACKEND_ENABLE, /**< new connections again */
	CTL_BACKEND_WEIGHT, /**< argument: the weight */
	CTL_BACKEND_ADD, /**< argument: weight | starts up << 16 */
	CTL_BACKEND_REMOVE,
	CTL_RELOAD, /**< apply the reload plan (reload.c) */
};

extern unsigned int nlanes; /* 1 until lanes_init() */
extern struct lane *lanes;

/** n lanes from cfg as main built it (each takes a share of its limits).
 * @return 0, -EINVAL (a limit below n: said), -ENOMEM. */
int lanes_init(unsigned int n);
void lanes_fini(void);
/** Run every lane (stack_host_lanes_run): up in turn, run, down in turn.
 * @return the exit status: 1 if a lane failed or leaked. */
int lanes_run(void);
/** From lane 0: tell every other lane. */
void lanes_broadcast(enum ctl_op op, uint32_t pool, uint32_t backend, uint32_t arg);
/** From lane 0: every lane has applied every message sent to it. */
bool lanes_settled(void);
/** max_pairs as configured (each lane has its share). */
uint32_t lanes_max_pairs(void);
/** Lane idx's share of a limit (0: none). */
uint32_t lane_share(uint32_t limit, unsigned int idx);
/** Every limit of c can be split n ways (said on stderr if not). @return 0 or -EINVAL. */
int lanes_check_limits(const struct config *c, unsigned int n);
/** Listener i's (or backend b of pool pi's) counters, every lane summed. */
void lanes_listener_sum(uint32_t i, struct listener *out);
void lanes_backend_sum(uint32_t pi, uint32_t b, struct backend_stats *out, uint32_t *active);
/** Lane l's steering figures (live, or as they were when it went down). */
uint64_t lane_kept(const struct lane *l);
uint64_t lane_handed_on(const struct lane *l);
/** Pairs open on every lane. */
uint64_t lanes_active_pairs(void);

/* l4proxy.c: a lane's proxy up (listeners, pairs, checks on lane 0), its
 * start once every lane is up, and down with its figures. */
int proxy_lane_up(struct lane *l);
void proxy_lane_start(struct lane *l);
int proxy_lane_down(struct lane *l);

/* ---- config.c ---- */

/** The global settings' defaults (drain_timeout, max_pairs, idle spin). */
void config_defaults(void);
void pool_defaults(struct pool *p, const char *name);
void listener_defaults(struct listener *l, const char *name);
/** "reset" or "queue"; @return 0, or -1 for anything else. */
int parse_over_limit(const char *s, enum over_limit *out);
/** Add "ADDR:PORT[,weight=N]" to a pool; where names the place in messages. */
int add_backend(struct pool *pool, const char *spec, const char *where);
/**
 * Read an INI file into cfg (which must hold defaults and no pools or
 * listeners). Every mistake is refused on stderr with file, section or line,
 * key and reason. @return 0, or -1 (cfg's pools then hold what was built:
 * config_free() them).
 */
int config_load(const char *file);
/** Apply what every pool's settings imply for its backends (max_conns). */
void config_finish(void);
/** The effective configuration as an INI file that config_load() reads back
 * to the same configuration: every key, defaults included. */
void config_print(FILE *out);
void config_free(void);
/** cfg.log from a value: a file, "syslog", or "off". @return 0, or -1 (said). */
int config_set_log(const char *v, const char *where);
/** The metrics port is no listener's (where: the file, or the command line).
 * @return 0, or -1 (said). */
int config_check_ports(const char *where);
struct pool *pool_find(const char *name);
/** pool_find() in another lane's config (telemetry's thread reads lane 0's). */
struct pool *pool_find_in(struct config *c, const char *name);
void fmt_addr(char *out, size_t len, uint32_t ip, uint16_t port);
/** "off", "v1" or "v2" (a pool's proxy_protocol) to 0, 1, 2; -1 if none. */
int parse_proxy_send(const char *s);

/** When the proxy started (seconds): the first part of every unique ID. */
extern uint32_t proxy_epoch;
/** A pair's unique ID (sent in PROXY v2's TLV, logged as id=): 24 hex
 * digits, the start, the lcore and the lane's pair count. */
void unique_id(char out[25], unsigned int lcore, uint64_t seq);

/* ---- ini.c ---- */

/** Refuse, with file:line, what rte_cfgfile would skip in silence: a line
 * that is neither [section], comment nor KEY = VALUE, and a section given
 * twice. @return 0 or -1 (said on stderr); 0 for a file it cannot open. */
int ini_lint(const char *file);
/** "FILE:LINE: [SEC] KEY" for the first line of [sec] with key = val (the
 * line left out if it cannot be found). */
void ini_where(char *out, size_t len, const char *file, const char *sec, const char *key,
		const char *val);

/* ---- pair.c ---- */

/** The slab of max_pairs pairs, on host.ex. @return 0 or -ENOMEM. */
int pairs_init(uint32_t max_pairs);
void pairs_fini(void);
/**
 * A pair for an accepted client c of listener ls, spawned; full: the
 * listener is at max_conns (or others wait), so the pair queues for a slot.
 * @return 0, or -ENOSPC (no pair left; c untouched).
 */
int pair_start(struct listener *ls, struct tcp_conn *c, bool full);
/** Tell the oldest waiter of a queue that there may be room now. */
void wq_wake_head(struct pair_wq *q);
/** Pairs now open, every listener summed. */
uint64_t active_pairs(void);
/** The next of this lane's connection numbers (the unique ID's last part). */
uint64_t pair_next_seq(void);

/* ---- limits.c ---- */

/**
 * May listener ls take a new client? full: it is at max_conns (or others
 * wait), so an admitted client must queue. @return 0 (admitted), or -1 (over
 * max_rate, or full with over_limit = reset: refuse it).
 */
int listener_admit(struct listener *ls, bool *full);

/* ---- listener.c ---- */

/** Listen on every configured port and spawn its acceptor (say: print
 * each listener). @return 0 or -errno after saying which listener failed. */
int listeners_start(bool say);
/** Stop accepting (the drain); idempotent. */
void listeners_close(void);
/** Listen on ls's port and spawn its acceptor. @return 0 or -errno (said). */
int listener_open(struct listener *ls, bool say);
/** Stop ls accepting (its pairs run on); idempotent. */
void listener_close(struct listener *ls);

/* ---- stats.c: telemetry replies ---- */

#include <rte_telemetry.h>
/** Register a telemetry command behind the gate: it runs only between
 * tel_open() and tel_close() (the lanes up), never while they go down. */
void tel_register(const char *cmd, telemetry_cb fn, const char *help);
void tel_open(void);
/** Close the gate: returns once no command runs; later ones get -EBUSY. */
void tel_close(void);

/* A table for telemetry: a dict of columns of equal length. */
#define TEL_COLS_MAX 10
struct tel_table {
	unsigned int n;
	const char *name[TEL_COLS_MAX];
	struct rte_tel_data *col[TEL_COLS_MAX];
};
/** Start reply d as a dict with columns names[] ("s:NAME": strings). @return 0, -ENOMEM. */
int tel_table_start(struct tel_table *t, struct rte_tel_data *d, const char *const *names,
		unsigned int n);
/** Put t's columns into d, each name after prefix. */
void tel_table_add(struct tel_table *t, struct rte_tel_data *d, const char *prefix);

/* ---- cluster.c ---- */

/** On each lane: join the cluster of [global] cluster (its id: cfg.ip's
 * place); nothing without one. @return 0, or -1 (said on stderr). */
int cluster_lane_up(bool say);
/** Every lane's cluster counters (flows_moved_in, strays_*) summed into sum. */
void cluster_sum(struct tcp_stats *sum);
/** The telemetry commands /l4proxy/vips and /l4proxy/announce. */
void cluster_register(void);
/** serving, withdrawn (the operator's), stopping (SIGTERM's withdraw_wait_ms)
 * or draining. */
const char *announce_state(void);
/** Set by lane 0's supervisor during SIGTERM's withdraw_wait_ms. */
extern bool proxy_withdrawing;

/* ---- reload.c ---- */

/** The file to read again on SIGHUP or /l4proxy/reload (NULL: flags only). */
extern const char *reload_file;
/** Set by lane 0's supervisor once SIGTERM's drain began: no more reloads. */
extern bool proxy_stopping;
/** On lane 0: read reload_file, check it, and change the running proxy to it
 * on every lane; out says what happened ("ok: ..." or "error: ...").
 * @return 0, or -1 (the old configuration keeps running). */
int reload_run(char *out, size_t len);
/** On a lane (its control task): apply the plan lane 0 made. */
void reload_apply_lane(void);
/** At exit, after every lane is down. */
void reload_fini(void);

/* ---- health.c ---- */

/** Spawn a check task per backend of every pool with checks. @return 0 or -ENOMEM. */
int health_start(void);
/** Backend k was added to pool (with checks) at run time: check it too. */
void health_backend_added(struct pool *pool, uint32_t k);
void health_fini(void);
/** On lane 0: make backend k's balancer state (up, draining, weight) what
 * pool->ctl[k] says, and tell every other lane what changed. now_ns: the
 * executor's clock (slow start). */
void backend_apply(struct pool *pool, uint32_t k, uint64_t now_ns);
/** On lane 0, each supervisor tick: the weights of backends in slow start. */
void backends_ramp(uint64_t now_ns);
/** The weight backend k would have now (ctl, agent, slow start). */
uint16_t backend_weight_now(const struct pool *pool, uint32_t k, uint64_t now_ns);
/** pool->ctl[k] from its lb_backend as configured (at start, and when added). */
void backend_ctl_init(struct pool *pool, uint32_t k);
/** "GET /path" and "200" or "200-399" into pool. @return 0, or -1 (what is wrong in err). */
int parse_http_check(struct pool *pool, const char *v, char *err, size_t len);
int parse_http_status(struct pool *pool, const char *v, char *err, size_t len);

/* ---- stats.c ---- */

void print_stats(const char *when);
/** A lane's executor, port and stack figures at exit. */
void print_exit_stats(const struct lane *l);
void telemetry_register(void);

/* ---- metrics.c ---- */

/** A text that grows (malloc); oom once an allocation failed. */
struct text {
	char *buf;
	size_t len, cap;
	bool oom;
};
void tx(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** The Prometheus exposition of every figure (every lane's). */
void metrics_render(struct text *t);
/** This lane's endpoint on cfg.metrics_port (none if 0); say: print where.
 * @return 0 or -errno (said). */
int metrics_start(bool say);
/** After the lane's executor shut down. */
void metrics_stop(void);

/* ---- connlog.c ---- */

struct pair;
/** A pair ended: its log line goes to this lane's ring (if logs are on). */
void conn_log(const struct pair *p, enum pair_end_cause cause, uint64_t now_ns);
/** A client of ls refused at accept by a limit (END_LIMIT), logged as well. */
void conn_log_refused(const struct listener *ls, struct tcp_conn *c, uint64_t now_ns);
/** The rings (one per lane) and the writer thread. @return 0 or -1 (said). */
int connlog_init(void);
/** This lane's clock and rate share; on the lane's lcore, before traffic. */
void connlog_lane_up(struct lane *l);
/** Stop the writer after it wrote every line left; print its figures. */
void connlog_fini(void);
/** The logs' own figures, for metrics_render(). */
void connlog_metrics(struct text *t);

/* ---- runtime.c ---- */

/** Register the runtime API's telemetry commands. */
void runtime_register(void);
/** On lane 0 (the supervisor's tick): apply a pending request, if any. */
void runtime_apply(void);
/** Put a backend in slot k of this lane's pool (a slot past the end, or a
 * removed one): its counters zero, its max_conns the lane's share. */
void backend_slot_fill(struct pool *pool, uint32_t k, uint32_t ip, uint16_t port, uint16_t weight,
		bool up);

#endif
