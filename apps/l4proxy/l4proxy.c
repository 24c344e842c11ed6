/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * l4proxy - riptide's L4 TCP proxy and load balancer. Each client connection
 * is accepted (listener.c), given a backend (round robin, weighted, least
 * connections or Maglev on the client address: lb.c), connected to it and
 * piped both ways, zero copy (pair.c). Active health checks take backends
 * out and put them back (health.c); limits per listener and backend queue or
 * refuse clients; stats are printed and served through DPDK telemetry
 * (stats.c); the configuration comes from flags or an INI file (config.c).
 * This file: the flags, the supervisor (drain requests, stats interval,
 * SIGTERM's drain) and main. SIGTERM or SIGINT: stop accepting, let pairs
 * finish for up to --drain-timeout, then reset what is left and exit.
 *
 *   l4proxy [EAL args] -- --ip ADDR/PREFIX (--listen ... --backend ... | --config FILE)
 *   l4proxy --check-config FILE
 *
 * One port (the EAL's first); one lane per lcore of the EAL (-l 0-3: four),
 * each a whole proxy on its own queue of the port (lanes.c).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_eal.h>

#include "args.h"
#include "dp_eal.h"
#include "dp_impair.h"
#include "ex_executor.h"
#include "ex_timer.h"
#include "ipv4_addr.h"
#include "l4proxy.h"
#include "stack.h"

_Thread_local struct stack_host host;
static volatile sig_atomic_t stop_requested, reload_requested;
bool proxy_stopping;
/* main()'s, for the lanes: the impairment (one lane only) */
static struct dp_impair_config icfg;
static bool impaired;

static void
usage(FILE *out, const char *prog)
{
	fprintf(out,
			"Usage: %s [EAL args] -- --ip ADDR/PREFIX [options]\n"
			"  --ip A/P             the proxy's address on its port (required)\n"
			"  --gateway A          next hop for other networks\n"
			"  --listen PORT        listen on ADDR:PORT of --ip (the simple case; or --config)\n"
			"  --backend A:P[,weight=N]  a backend (repeat)\n"
			"  --algorithm NAME     roundrobin (default), weighted, leastconn, maglev\n"
			"  --connect-timeout MS backend connect timeout, then the next (default 3500)\n"
			"  --idle-timeout MS    reset a pair idle this long (default 300000; 0: never)\n"
			"  --health-interval MS TCP connect check per backend (default 1000; 0: off)\n"
			"  --health-timeout MS  (default 500)\n"
			"  --rise N --fall N    checks to go up / down, 1..100 (default 2 / 2)\n"
			"  --health-check KIND  tcp (a connect, the default) or http (a request whose\n"
			"                       status must be in --http-check-status)\n"
			"  --http-check 'M P'   the request's method and path (default 'GET /')\n"
			"  --http-check-status S  a status or a range (default 200-399)\n"
			"  --agent-port N       ask an agent on each backend's address, port N, every\n"
			"                       --agent-interval MS (default 1000): a line of N%%, up,\n"
			"                       down, drain (HAProxy's agent-check); default 0: none\n"
			"  --slow-start MS      ramp a backend's weight over MS when it comes back\n"
			"                       (default 0: at once)\n"
			"  --proxy-protocol[=V] send a PROXY protocol header to backends: v2 (the\n"
			"                       default, with a unique ID TLV) or v1\n"
			"  --accept-proxy       clients start with a PROXY header (v1 or v2), as from\n"
			"                       another balancer: its client is the one used\n"
			"  --trusted-sources L  who may send one: ADDR[/PREFIX], comma-separated;\n"
			"                       others are reset (default: any source)\n"
			"  --max-conns N        per listener (default 0: no limit)\n"
			"  --backend-max-conns N  per backend; a full backend is skipped\n"
			"  --over-limit WHAT    clients over max-conns (listener, or every backend full):\n"
			"                       reset (default: a RST) or queue (held until there is room)\n"
			"  --queue-timeout MS   how long a queued client may wait, then a RST (default 2000)\n"
			"  --max-rate N         new connections per second per listener (0: no limit)\n"
			"  --config FILE        INI (rte_cfgfile): [global], [pool NAME], [listener NAME];\n"
			"                       see docs/l4proxy.md. The pool and listener flags above\n"
			"                       do not mix with it; the global ones below override it\n"
			"  --check-config FILE  validate FILE and print the effective configuration\n"
			"                       (every key, defaults included) as INI; no EAL, no port\n"
			"  --stats-interval S   print stats every S seconds (default 0: at exit only)\n"
			"  --drain-timeout S    on SIGTERM, let pairs finish this long (default 10)\n"
			"  --duration S         stop (as on SIGTERM) after S seconds\n"
			"  --busy-poll          poll without pause when idle (default: sleep until the\n"
			"                       rx queue has packets or a timer is due; naps of up to\n"
			"                       1 ms on a port with no rx event fd)\n"
			"  --idle-spin US       how long an idle loop keeps polling before it sleeps\n"
			"                       (default 0: polling between bursts costs CPU that a\n"
			"                       sleep on the rx queue's fd does not)\n"
			"  --rx-coalesce US     interrupt moderation: under load, nap US between\n"
			"                       polls instead of sleeping on the rx queue's events,\n"
			"                       so a wake-up finds a batch (a NIC's rx-usecs): less\n"
			"                       CPU per request, up to US more latency per packet\n"
			"                       (default 100; 0: never; max 1000)\n"
			"  --rx-coalesce-after N\n"
			"                       adaptive: the naps begin once N wake-ups in a row\n"
			"                       each came within 1 ms of the last work, and end at a\n"
			"                       nap that finds nothing, so a request after a quiet\n"
			"                       spell is never held (default 16, min 1)\n"
			"  --tx-hold US         send a loop's packets at most every US microseconds\n"
			"                       under load (fewer PMD sends, each a syscall on\n"
			"                       af_xdp/tap; the loop sleeps while it holds); a quiet\n"
			"                       port sends at once (default 0, max 1000)\n"
			"  --metrics-port N     serve Prometheus metrics at http://IP:N/metrics on the\n"
			"                       proxy's own address (default 0: off)\n"
			"  --log FILE|syslog    one line per finished connection, appended to FILE or\n"
			"                       to syslog (local0.info), written by a control thread\n"
			"                       (default off)\n"
			"  --log-rate N         at most N log lines a second (default 0: no limit)\n"
			"  --impair SPEC        impair the port both ways (tests), e.g. loss=2%%,seed=random\n"
			"  -h, --help           this text\n"
			"  --version            riptide's and DPDK's versions\n"
			"Lcores: one lane per lcore of the EAL (-l 0-3: four), each a whole proxy on\n"
			"its own queue of the port; flows are steered to their lane (said at start).\n"
			"Limits (max-conns, max-rate, backend-max-conns, max_pairs) are split\n"
			"between the lanes; health checks run on the first and reach the others.\n"
			"Telemetry (dpdk-telemetry.py, or scripts/l4proxyctl): /l4proxy/stats,\n"
			"/l4proxy/lcores, /l4proxy/pools, /l4proxy/backends,POOL; changes while it\n"
			"runs, applied on every lcore: /l4proxy/backend_disable (or drain),\n"
			"backend_enable, backend_remove (POOL,ADDR:PORT), backend_weight\n"
			"(POOL,ADDR:PORT,N), backend_add (POOL,ADDR:PORT[,N]).\n"
			"Scale-out (docs/scale-out.md): listeners on a vip, several proxies behind\n"
			"ECMP ([global] cluster), the vips announced by FRR (l4proxyctl bgp) from\n"
			"/l4proxy/vips; /l4proxy/announce,off|on withdraws them while serving on.\n"
			"Signals: SIGTERM/SIGINT drain and stop (after withdraw_wait_ms with the vips\n"
			"withdrawn, if set); SIGHUP (or /l4proxy/reload) reads the --config file\n"
			"again and applies it without dropping a connection.\n",
			prog);
}

/* ---- the supervisor: stats, runtime requests, shutdown ---- */

struct supervisor {
	struct ex_future base;
	struct ex_sleep tick;
	uint64_t next_stats, drain_deadline, stop_at;
	uint64_t drain_at; /* withdraw_wait_ms: when the drain starts */
	bool stopping;
};

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_requested = 1;
	else
		stop_requested = 1;
}

/* SIGHUP's reload, said on stdout. */
static void
reload_on_signal(void)
{
	char msg[256];

	reload_requested = 0;
	if (proxy_stopping)
		snprintf(msg, sizeof(msg), "error: stopping: no reload");
	else
		reload_run(msg, sizeof(msg));
	printf("l4proxy: SIGHUP: %s\n", msg);
}

/* Lane 0's: it speaks for every lane (stats summed, the drain of all). */
static enum ex_poll
supervisor_poll(struct ex_future *f, struct ex_context *cx)
{
	struct supervisor *s = EX_CONTAINER_OF(f, struct supervisor, base);

	for (;;) {
		uint64_t now = ex_now_ns(host.ex);

		if (ex_await(&s->tick.base, cx) == EX_PENDING)
			return EX_PENDING;
		if (reload_requested)
			reload_on_signal();
		runtime_apply();
		backends_ramp(now);
		if (cfg.stats_interval > 0 && now >= s->next_stats) {
			print_stats("interval");
			s->next_stats = now + (uint64_t)(cfg.stats_interval * 1e9);
		}
		if (!s->stopping && !proxy_withdrawing && cfg.withdraw_wait_ms > 0 &&
				(stop_requested || (s->stop_at != 0 && now >= s->stop_at))) {
			/* The VIPs go first (l4proxyctl bgp sees "stopping" and
			 * withdraws them): the router moves new flows elsewhere
			 * while this proxy still takes what reaches it. */
			proxy_withdrawing = true;
			s->drain_at = now + (uint64_t)cfg.withdraw_wait_ms * EX_NS_PER_MS;
			printf("l4proxy: stopping: vips withdrawn, serving %u ms more before the "
			       "drain\n",
					cfg.withdraw_wait_ms);
		}
		if (!s->stopping &&
				(proxy_withdrawing ? now >= s->drain_at
						   : stop_requested || (s->stop_at != 0 &&
										       now >= s->stop_at))) {
			s->stopping = true;
			proxy_stopping = true;
			s->drain_deadline = now + (uint64_t)(cfg.drain_timeout * 1e9);
			printf("l4proxy: stopping: no new connections, %" PRIu64
			       " active, draining for up to %.1f s\n",
					lanes_active_pairs(), cfg.drain_timeout);
			listeners_close();
			lanes_broadcast(CTL_STOP, 0, 0, 0);
		}
		/* Every lane's loop runs until every lane has drained: a lane's
		 * flows may come in on another's queue. */
		if (s->stopping && (lanes_active_pairs() == 0 || now >= s->drain_deadline)) {
			tel_close(); /* before any lane goes down */
			ex_stop_all();
			f->result = 0;
			return EX_READY;
		}
		ex_sleep_init(&s->tick, 100 * EX_NS_PER_MS);
	}
}

static const struct ex_future_ops supervisor_ops = {
	.poll = supervisor_poll,
	.drop = NULL,
	.name = "l4_supervisor",
};

/* ---- flags ---- */

/* What the command line said beyond cfg: the settings that are not cfg's,
 * and which flags were given (a pool or listener flag does not mix with
 * --config; a global one overrides the file). */
struct cli {
	const char *config, *impair;
	int algo;
	const char *pool_flag; /* the first pool or listener flag given */
	bool stats_set, drain_set;
	double stats_interval, drain_timeout;
};

/* The numeric flags of the simple case's pool and listener (cfg.pools[0],
 * cfg.ls[0]) and the global ones, with their ranges: the same as the INI
 * keys' (config.c). Where each goes is an offset into cfg, which is each
 * thread's own (main() parses into its own, lane 0's). */
struct num_flag {
	int c;
	const char *name;
	uint32_t min, max;
	size_t off; /* offsetof(struct config, ...) */
	bool u8; /* a uint8_t there, else a uint32_t */
	bool pool; /* a pool's or listener's: not with --config */
};

#define CFG_U32(field) offsetof(struct config, field), false
#define CFG_U8(field) offsetof(struct config, field), true

static const struct num_flag num_flags[] = {
	{ 'c', "--connect-timeout", 1, 600000, CFG_U32(pools[0].connect_timeout_ms), true },
	{ 'I', "--idle-timeout", 0, 86400000, CFG_U32(ls[0].idle_timeout_ms), true },
	{ 'H', "--health-interval", 0, 3600000, CFG_U32(pools[0].health_interval_ms), true },
	{ 'T', "--health-timeout", 1, 600000, CFG_U32(pools[0].health_timeout_ms), true },
	{ 'r', "--rise", 1, 100, CFG_U8(pools[0].rise), true },
	{ 'f', "--fall", 1, 100, CFG_U8(pools[0].fall), true },
	{ 'm', "--max-conns", 0, 10000000, CFG_U32(ls[0].max_conns), true },
	{ 'B', "--backend-max-conns", 0, 10000000, CFG_U32(pools[0].backend_max_conns), true },
	{ 'R', "--max-rate", 0, 10000000, CFG_U32(ls[0].max_rate), true },
	{ 'Q', "--queue-timeout", 1, 600000, CFG_U32(ls[0].queue_timeout_ms), true },
	{ 'W', "--idle-spin", 0, 100000, CFG_U32(idle_spin_us), false },
	{ 'K', "--rx-coalesce", 0, 1000, CFG_U32(rx_coalesce_us), false },
	{ 'J', "--rx-coalesce-after", 1, 1000000, CFG_U32(rx_coalesce_after), false },
	{ 'X', "--tx-hold", 0, 1000, CFG_U32(tx_hold_us), false },
	{ 'A', "--agent-port", 0, 65535, CFG_U32(pools[0].agent_port), true },
	{ 'n', "--agent-interval", 1, 3600000, CFG_U32(pools[0].agent_interval_ms), true },
	{ 'S', "--slow-start", 0, 3600000, CFG_U32(pools[0].slow_start_ms), true },
};

/* Global flags that override the file's [global]: set after it is read. */
struct global_flags {
	bool metrics_set, log_set, log_rate_set;
	uint32_t metrics_port, log_rate;
	const char *log;
};
static struct global_flags gflags;

static const struct option long_opts[] = {
	{ "ip", required_argument, NULL, 'i' },
	{ "gateway", required_argument, NULL, 'g' },
	{ "listen", required_argument, NULL, 'l' },
	{ "backend", required_argument, NULL, 'b' },
	{ "algorithm", required_argument, NULL, 'a' },
	{ "connect-timeout", required_argument, NULL, 'c' },
	{ "idle-timeout", required_argument, NULL, 'I' },
	{ "health-interval", required_argument, NULL, 'H' },
	{ "health-timeout", required_argument, NULL, 'T' },
	{ "rise", required_argument, NULL, 'r' },
	{ "fall", required_argument, NULL, 'f' },
	{ "proxy-protocol", optional_argument, NULL, 'p' },
	{ "accept-proxy", no_argument, NULL, 'x' },
	{ "health-check", required_argument, NULL, 'k' },
	{ "http-check", required_argument, NULL, 'e' },
	{ "http-check-status", required_argument, NULL, 'E' },
	{ "agent-port", required_argument, NULL, 'A' },
	{ "agent-interval", required_argument, NULL, 'n' },
	{ "slow-start", required_argument, NULL, 'S' },
	{ "trusted-sources", required_argument, NULL, 't' },
	{ "max-conns", required_argument, NULL, 'm' },
	{ "backend-max-conns", required_argument, NULL, 'B' },
	{ "max-rate", required_argument, NULL, 'R' },
	{ "over-limit", required_argument, NULL, 'O' },
	{ "queue-timeout", required_argument, NULL, 'Q' },
	{ "config", required_argument, NULL, 'C' },
	{ "stats-interval", required_argument, NULL, 's' },
	{ "drain-timeout", required_argument, NULL, 'D' },
	{ "duration", required_argument, NULL, 'd' },
	{ "busy-poll", no_argument, NULL, 'Y' },
	{ "tx-hold", required_argument, NULL, 'X' },
	{ "idle-spin", required_argument, NULL, 'W' },
	{ "rx-coalesce", required_argument, NULL, 'K' },
	{ "rx-coalesce-after", required_argument, NULL, 'J' },
	{ "impair", required_argument, NULL, 'P' },
	{ "metrics-port", required_argument, NULL, 'M' },
	{ "log", required_argument, NULL, 'L' },
	{ "log-rate", required_argument, NULL, 'G' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* A numeric flag of num_flags[]: @return 1 if c is one (0 or -1 set in *rc). */
static int
num_flag(int c, const char *arg, struct cli *cli, int *rc)
{
	size_t i;
	uint32_t v;

	for (i = 0; i < RTE_DIM(num_flags); i++) {
		const struct num_flag *nf = &num_flags[i];

		if (nf->c != c)
			continue;
		*rc = arg_u32("l4proxy", nf->name, arg, nf->min, nf->max, &v);
		if (*rc == 0 && nf->u8)
			*((uint8_t *)&cfg + nf->off) = (uint8_t)v;
		else if (*rc == 0)
			memcpy((uint8_t *)&cfg + nf->off, &v, sizeof(v));
		if (nf->pool && cli->pool_flag == NULL)
			cli->pool_flag = nf->name;
		return 1;
	}
	return 0;
}

/* The simple case's pool and listener flags that are not numbers. */
static int
pool_flag(int c, const char *arg, struct cli *cli)
{
	struct pool *pool = &cfg.pools[0];
	struct listener *ls = &cfg.ls[0];
	uint32_t port;

	switch (c) {
	case 'l':
		if (arg_u32("l4proxy", "--listen", arg, 1, 65535, &port) != 0)
			return -1;
		ls->port = (uint16_t)port;
		cli->pool_flag = cli->pool_flag != NULL ? cli->pool_flag : "--listen";
		return 0;
	case 'b':
		cli->pool_flag = cli->pool_flag != NULL ? cli->pool_flag : "--backend";
		return add_backend(pool, arg, "--backend");
	case 'a':
		cli->pool_flag = cli->pool_flag != NULL ? cli->pool_flag : "--algorithm";
		cli->algo = lb_algo_parse(arg);
		if (cli->algo < 0)
			fprintf(stderr, "l4proxy: --algorithm: roundrobin, weighted, leastconn or maglev, not '%s'\n",
					arg);
		return cli->algo < 0 ? -1 : 0;
	case 'p':
		cli->pool_flag = cli->pool_flag != NULL ? cli->pool_flag : "--proxy-protocol";
		if (arg == NULL) {
			pool->proxy_send = 2;
			return 0;
		}
		if (parse_proxy_send(arg) < 0) {
			fprintf(stderr, "l4proxy: --proxy-protocol=v1, v2 or off, not '%s'\n", arg);
			return -1;
		}
		pool->proxy_send = (uint8_t)parse_proxy_send(arg);
		return 0;
	case 'k':
		cli->pool_flag = cli->pool_flag != NULL ? cli->pool_flag : "--health-check";
		if (strcmp(arg, "tcp") != 0 && strcmp(arg, "http") != 0) {
			fprintf(stderr, "l4proxy: --health-check: tcp or http, not '%s'\n", arg);
			return -1;
		}
		pool->check = strcmp(arg, "http") == 0 ? HEALTH_CHECK_HTTP : HEALTH_CHECK_TCP;
		return 0;
	case 'e':
	case 'E': {
		char err[96];

		cli->pool_flag = cli->pool_flag != NULL ? cli->pool_flag : "--http-check";
		if ((c == 'e' ? parse_http_check(pool, arg, err, sizeof(err))
			      : parse_http_status(pool, arg, err, sizeof(err))) == 0)
			return 0;
		fprintf(stderr, "l4proxy: %s '%s': %s\n",
				c == 'e' ? "--http-check" : "--http-check-status", arg, err);
		return -1;
	}
	case 'x':
		cli->pool_flag = cli->pool_flag != NULL ? cli->pool_flag : "--accept-proxy";
		ls->accept_proxy = true;
		return 0;
	case 't': {
		char err[96];

		cli->pool_flag = cli->pool_flag != NULL ? cli->pool_flag : "--trusted-sources";
		if (pp_trust_parse(arg, &ls->trusted, err, sizeof(err)) == 0)
			return 0;
		fprintf(stderr, "l4proxy: --trusted-sources: %s\n", err);
		return -1;
	}
	case 'O':
		cli->pool_flag = cli->pool_flag != NULL ? cli->pool_flag : "--over-limit";
		if (parse_over_limit(arg, &ls->over_limit) == 0)
			return 0;
		fprintf(stderr, "l4proxy: --over-limit: reset or queue, not '%s'\n", arg);
		return -1;
	}
	return -1;
}

/* The rest: addresses, the file, times and switches. */
static int
other_flag(int c, const char *arg, struct cli *cli)
{
	switch (c) {
	case 'i':
		if (ipv4_parse_cidr(arg, &cfg.ip, &cfg.prefix) == 0)
			return 0;
		fprintf(stderr, "l4proxy: --ip '%s': wants ADDR/PREFIX, e.g. 198.18.100.10/24\n",
				arg);
		return -1;
	case 'g':
		if (ipv4_parse_addr(arg, &cfg.gateway) == 0)
			return 0;
		fprintf(stderr, "l4proxy: bad --gateway '%s'\n", arg);
		return -1;
	case 'C':
		cli->config = arg;
		return 0;
	case 's':
		cli->stats_set = true;
		return arg_seconds(
				"l4proxy", "--stats-interval", arg, 0, 86400, &cli->stats_interval);
	case 'D':
		cli->drain_set = true;
		return arg_seconds(
				"l4proxy", "--drain-timeout", arg, 0, 86400, &cli->drain_timeout);
	case 'd':
		return arg_seconds("l4proxy", "--duration", arg, 0, 31536000, &cfg.duration);
	case 'Y':
		cfg.busy_poll = true;
		return 0;
	case 'P':
		cli->impair = arg;
		return 0;
	case 'M':
		gflags.metrics_set = true;
		return arg_u32("l4proxy", "--metrics-port", arg, 0, 65535, &gflags.metrics_port);
	case 'L':
		gflags.log_set = true;
		gflags.log = arg;
		return 0;
	case 'G':
		gflags.log_rate_set = true;
		return arg_u32("l4proxy", "--log-rate", arg, 0, 10000000, &gflags.log_rate);
	}
	return pool_flag(c, arg, cli);
}

/* @return 0 to run, 1 to exit 0 (--help), -1 to exit 2. */
static int
parse_flags(int argc, char **argv, struct cli *cli)
{
	int c, rc;

	memset(cli, 0, sizeof(*cli));
	cli->algo = LB_ALGO_ROUND_ROBIN;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout, argv[0]);
			return 1;
		}
		if (c == '?') {
			usage(stderr, argv[0]);
			return -1;
		}
		if (num_flag(c, optarg, cli, &rc) == 0)
			rc = other_flag(c, optarg, cli);
		if (rc != 0)
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "l4proxy: '%s': not a flag (see --help)\n", argv[optind]);
		return -1;
	}
	if (cfg.ip == 0) {
		fprintf(stderr, "l4proxy: --ip ADDR/PREFIX is required\n");
		return -1;
	}
	return 0;
}

/* cfg's pools and listeners from the simple case's flags, or from the file. */
static int
config_build(struct cli *cli)
{
	struct pool *pool = &cfg.pools[0];
	struct listener *ls = &cfg.ls[0];
	struct lb tmp = pool->lb;
	uint32_t i;

	if (cli->config != NULL) {
		if (cli->pool_flag != NULL) {
			fprintf(stderr,
					"l4proxy: --config and %s do not mix: pools and listeners come "
					"from the file\n",
					cli->pool_flag);
			return -1;
		}
		lb_fini(&pool->lb);
		memset(cfg.pools, 0, sizeof(cfg.pools));
		memset(cfg.ls, 0, sizeof(cfg.ls));
		if (config_load(cli->config) != 0)
			return -1;
	} else {
		if (ls->port == 0 || pool->lb.n == 0) {
			fprintf(stderr, "l4proxy: give --listen PORT and at least one --backend "
					"(or --config FILE)\n");
			return -1;
		}
		/* The backends were added before the algorithm was known. */
		if (lb_init(&pool->lb, (enum lb_algo)cli->algo) != 0)
			return -1;
		for (i = 0; i < tmp.n; i++)
			lb_add(&pool->lb, tmp.be[i].ip, tmp.be[i].port, tmp.be[i].weight);
		ls->pool = pool;
		cfg.npools = 1;
		cfg.nlisteners = 1;
	}
	/* The command line overrides the file's [global]. */
	if (cli->stats_set)
		cfg.stats_interval = cli->stats_interval;
	if (cli->drain_set)
		cfg.drain_timeout = cli->drain_timeout;
	if (gflags.metrics_set)
		cfg.metrics_port = gflags.metrics_port;
	if (gflags.log_rate_set)
		cfg.log_rate = gflags.log_rate;
	if (gflags.log_set && config_set_log(gflags.log, "--log") != 0)
		return -1;
	if (config_check_ports(cli->config != NULL && !gflags.metrics_set
					       ? cli->config
					       : "the command line") != 0)
		return -1;
	config_finish();
	return 0;
}

/* l4proxy --check-config FILE: no EAL, no port. @return the exit status. */
static int
check_config(const char *file)
{
	int rc;

	config_defaults();
	rc = config_load(file);
	if (rc == 0)
		rc = config_check_ports(file);
	if (rc == 0) {
		printf("; %s: valid. The effective configuration, defaults included:\n\n", file);
		config_print(stdout);
	}
	config_free();
	return rc == 0 ? 0 : 2;
}

/* ---- bring-up and teardown: one lane per lcore (lanes.c) ---- */

static struct supervisor sup; /* lane 0's */

int
proxy_lane_up(struct lane *l)
{
	struct stack_host_config hc;
	char name[16];

	stack_host_config_defaults(&hc);
	snprintf(name, sizeof(name), l->idx == 0 ? "l4proxy" : "l4proxy%u", l->idx);
	hc.name = name;
	/* Every queue's received mbufs come from lane 0's pool (it sets the
	 * queues up): the pairs forward them. The other lanes' pools hold only
	 * what their stacks make (headers, ACKs, SYNs). */
	hc.nb_mbufs = l->idx == 0 ? 65535 : 16383;
	hc.stack.ip = cfg.ip;
	hc.stack.prefix_len = cfg.prefix;
	hc.stack.gateway = cfg.gateway;
	hc.tcp.max_conns = 2 * cfg.max_pairs + 4096; /* two per pair, checks, TIME_WAIT */
	hc.tcp.rcv_buf = 128 * 1024;
	hc.tcp.snd_buf = 128 * 1024;
	hc.ex.max_tasks = cfg.max_pairs + 256;
	hc.ex.idle_spin_us = cfg.idle_spin_us;
	hc.ex.idle_spins = UINT32_MAX; /* the time decides */
	hc.ex.idle_coalesce_us = cfg.rx_coalesce_us;
	hc.ex.idle_coalesce_after = cfg.rx_coalesce_after;
	hc.busy_poll = cfg.busy_poll;
	hc.tx_hold_us = cfg.tx_hold_us;
	hc.impair = impaired ? &icfg : NULL;
	hc.port.nb_queues = (uint16_t)nlanes;
	if (l->idx > 0) {
		hc.attach = lanes[0].host;
		hc.queue = (uint16_t)l->idx;
	}
	if (stack_host_up(&host, &hc) != 0) {
		fprintf(stderr, "l4proxy: %s\n", host.err);
		return -1;
	}
	if (impaired) {
		char desc[256];

		dp_impair_format(&icfg, desc, sizeof(desc));
		printf("l4proxy: impairment on %s, both ways: %s (tx seed %" PRIu64 ")\n",
				host.ports[0].name, desc, icfg.seed + 1);
	}
	if (l->idx == 0 && nlanes > 1)
		printf("l4proxy: %u lcores on %s, a queue each: %s\n", nlanes, host.ports[0].name,
				host.steer_why);
	/* Health checks run on lane 0 alone; their verdicts reach the others
	 * as messages. */
	if (pairs_init(cfg.max_pairs) != 0 || (l->idx == 0 && health_start() != 0)) {
		fprintf(stderr, "l4proxy: no memory for %u pairs\n", cfg.max_pairs);
		return -1;
	}
	connlog_lane_up(l);
	if (cluster_lane_up(l->idx == 0) != 0 || listeners_start(l->idx == 0) != 0 ||
			metrics_start(l->idx == 0) != 0)
		return -1;
	return 0;
}

void
proxy_lane_start(struct lane *l)
{
	uint32_t i, k;

	if (l->idx != 0)
		return;
	memset(&sup, 0, sizeof(sup));
	ex_future_init(&sup.base, &supervisor_ops);
	ex_sleep_init(&sup.tick, 100 * EX_NS_PER_MS);
	if (cfg.duration > 0)
		sup.stop_at = ex_now_ns(host.ex) + (uint64_t)(cfg.duration * 1e9);
	if (cfg.stats_interval > 0)
		sup.next_stats = ex_now_ns(host.ex) + (uint64_t)(cfg.stats_interval * 1e9);
	ex_spawn(&sup.base, NULL, NULL);
	telemetry_register();
	runtime_register();
	cluster_register();
	tel_open();
	printf("l4proxy: %u.%u.%u.%u/%u on %s, ready\n", cfg.ip >> 24, (cfg.ip >> 16) & 255,
			(cfg.ip >> 8) & 255, cfg.ip & 255, cfg.prefix, host.ports[0].name);
	stack_announce(&host.st);
	/* Resolve the backends now: the first burst of clients then finds their
	 * MACs known instead of waiting on (and overflowing) ARP queues. Only a
	 * head start: a full table or a silent backend is handled on first use.
	 * The replies reach every lane's stack (stack_host.h: ARP is copied). */
	for (i = 0; i < cfg.npools; i++)
		for (k = 0; k < cfg.pools[i].lb.n; k++)
			(void)stack_arp_resolve(&host.st, cfg.pools[i].lb.be[k].ip);
}

/* @return 1 if an mbuf leaked, else 0. */
int
proxy_lane_down(struct lane *l)
{
	uint32_t s[TCP_STATE_MAX];
	int rc = 0;

	if (l->cfg == NULL || host.stage == 0)
		return 0; /* it never came up */
	if (l->idx == 0)
		print_stats("exit"); /* every lane's, summed: the others are down */
	print_exit_stats(l);
	if (cfg.ncluster > 0)
		printf("%s: cluster: %" PRIu64 " flows moved in (handed back by a peer), %" PRIu64
		       " segments handed to their owner, %" PRIu64
		       " copied to every instance, %" PRIu64 " strays dropped\n",
				host.name, host.tcp.stats.flows_moved_in,
				host.tcp.stats.strays_forwarded, host.tcp.stats.strays_flooded,
				host.tcp.stats.strays_dropped);
	if (active_pairs() != 0)
		printf("%s: %" PRIu64 " pairs still open after the drain timeout: reset\n",
				host.name, active_pairs());
	stack_host_shutdown(&host);
	listeners_close();
	metrics_stop();
	tcp_conns_by_state(&host.tcp, s);
	printf("%s: tcp connections at exit: %u open, %u closing, %u in TIME_WAIT\n", host.name,
			s[TCP_STATE_SYN_SENT] + s[TCP_STATE_SYN_RECEIVED] +
					s[TCP_STATE_ESTABLISHED] + s[TCP_STATE_CLOSE_WAIT],
			s[TCP_STATE_FIN_WAIT_1] + s[TCP_STATE_FIN_WAIT_2] + s[TCP_STATE_CLOSING] +
					s[TCP_STATE_LAST_ACK],
			s[TCP_STATE_TIME_WAIT]);
	pairs_fini();
	l->kept = stack_host_steer_kept(&host);
	l->handed_on = stack_host_steer_steered(&host);
	if (stack_host_down(&host, stdout) != 0)
		rc = 1;
	if (l->idx == 0)
		health_fini();
	return rc;
}

int
main(int argc, char **argv)
{
	struct dp_eal_info info;
	struct cli cli;
	char err[128];
	uint32_t i;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (stack_host_want_version(argc, argv, stdout))
		return 0;
	for (i = 1; i < (uint32_t)argc; i++)
		if (strcmp(argv[i], "--check-config") == 0) {
			if (i + 1 < (uint32_t)argc)
				return check_config(argv[i + 1]);
			fprintf(stderr, "l4proxy: --check-config FILE\n");
			return 2;
		}
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout, argv[0]);
		return 0;
	}
	rc = dp_eal_init(argc, argv, 256, &info);
	if (rc != 0) {
		fprintf(stderr, "l4proxy: EAL: %s\n", strerror(-rc));
		return 2;
	}
	if (info.note[0] != '\0')
		printf("l4proxy: %s\n", info.note);
	config_defaults();
	proxy_epoch = (uint32_t)time(NULL);
	/* The simple case builds one pool and one listener from flags. */
	pool_defaults(&cfg.pools[0], "default");
	listener_defaults(&cfg.ls[0], "default");
	rc = parse_flags(info.app_argc, info.app_argv, &cli);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (cli.impair != NULL && dp_impair_parse(cli.impair, &icfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "l4proxy: --impair: %s\n", err);
		return 2;
	}
	impaired = cli.impair != NULL;
	if (impaired && rte_lcore_count() > 1) {
		fprintf(stderr, "l4proxy: --impair: on one lcore only (the EAL gave %u: -l 0)\n",
				rte_lcore_count());
		return 2;
	}
	if (config_build(&cli) != 0 || lanes_init(rte_lcore_count()) != 0)
		return 2;
	if (connlog_init() != 0)
		return 2;
	reload_file = cli.config;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	rc = lanes_run();
	reload_fini();
	connlog_fini();
	lanes_fini();
	rte_eal_cleanup();
	return rc;
}
