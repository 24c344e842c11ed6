// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for executor/ex_idle.c: the backoff idle policy sleeping on its
// reactor sources' wake-up events (eventfds here, standing in for an rx
// queue's interrupt fd), on the real clock: every way work reaches a sleeping
// executor must end its sleep, and nothing else may.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_ring.h>

#include "ut_helpers.h"

namespace
{

using steady = std::chrono::steady_clock;

double
ms_since(steady::time_point t0)
{
	return std::chrono::duration<double, std::milli>(steady::now() - t0).count();
}

// A source whose work is the count written to its eventfd.
struct evsrc {
	struct ex_source src;
	int fd;
	unsigned int arms;
	unsigned int disarms;
	bool work_at_arm; // arm() finds work already there
};

unsigned int
evsrc_fn(struct ex_source *s)
{
	auto *e = EX_CONTAINER_OF(s, struct evsrc, src);
	uint64_t v = 0;
	return read(e->fd, &v, sizeof(v)) == (ssize_t)sizeof(v) ? (unsigned int)v : 0;
}

unsigned int
evsrc_arm(struct ex_source *s)
{
	auto *e = EX_CONTAINER_OF(s, struct evsrc, src);
	e->arms++;
	return e->work_at_arm ? 1 : 0;
}

void
evsrc_disarm(struct ex_source *s)
{
	EX_CONTAINER_OF(s, struct evsrc, src)->disarms++;
}

void
evsrc_init(struct evsrc *e)
{
	*e = evsrc{};
	e->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	e->src.fn = evsrc_fn;
	e->src.name = "evsrc";
	ex_source_set_event(&e->src, e->fd, evsrc_arm, evsrc_disarm);
}

void
poke(int fd)
{
	const uint64_t one = 1;
	ASSERT_EQ(write(fd, &one, sizeof(one)), (ssize_t)sizeof(one));
}

// Sleeps at once when idle; a lost wake-up would cost the whole 2 s cap,
// which every bound below stays well under.
struct ex_config
event_config(const char *name)
{
	struct ex_config cfg;
	ex_config_defaults(&cfg);
	cfg.name = name;
	cfg.max_tasks = 8;
	cfg.idle_policy = EX_IDLE_POLICY_BACKOFF;
	cfg.idle_spins = 1;
	cfg.idle_spin_us = 0;
	cfg.idle_event_us = 2000000;
	return cfg;
}

class IdleEvents : public ::testing::Test
{
      protected:
	void SetUp() override
	{
		struct ex_config cfg = event_config("idle_ev");
		ex = ex_executor_create(rte_lcore_id(), &cfg);
		ASSERT_NE(ex, nullptr);
		evsrc_init(&e);
		ASSERT_GE(e.fd, 0);
		ex_register_source(ex, &e.src);
	}
	void TearDown() override
	{
		if (ex != nullptr) {
			ex_unregister(ex, &e.src);
			ex_executor_free(ex);
		}
		close(e.fd);
	}
	struct ex_stats Stats() const
	{
		struct ex_stats s;
		ex_stats_read(ex, &s);
		return s;
	}
	struct ex_executor *ex = nullptr;
	struct evsrc e;
};

} // namespace

TEST_F(IdleEvents, TheSourcesFdEndsTheSleep_ThenTheSourceHasTheWork)
{
	ASSERT_TRUE(ex_sleeps_on_events(ex));
	std::thread packet([&] {
		std::this_thread::sleep_for(std::chrono::milliseconds(100));
		poke(e.fd);
	});
	auto t0 = steady::now();
	EXPECT_EQ(ex_run_once(ex), 0u) << "an idle iteration that slept";
	double slept = ms_since(t0);
	packet.join();
	EXPECT_GE(slept, 80.0) << "woke before anything happened";
	EXPECT_LT(slept, 1000.0) << "the event did not wake it: it slept towards the 2 s cap";
	EXPECT_EQ(ex_run_once(ex), 1u) << "the next iteration polls the source and finds the work";
	struct ex_stats s = Stats();
	EXPECT_EQ(s.idle_event_sleeps, 1u);
	EXPECT_EQ(s.idle_event_wakes, 1u);
	EXPECT_EQ(s.idle_sleeps, 1u) << "an event sleep is an idle sleep";
	EXPECT_EQ(e.arms, 1u);
	EXPECT_EQ(e.disarms, 1u) << "disarmed once awake";
}

// Interrupt moderation, adaptive (idle_coalesce_us, idle_coalesce_after): an
// idle loop sleeps on its sources' events until that many event wake-ups in
// a row each came less than EX_COALESCE_QUIET_NS after its last work; then it
// naps idle_coalesce_us instead (through the sleep hook), polling a batch
// after each nap, until a nap's poll finds nothing; then it sleeps on events
// again and counts afresh. A fake clock sets every gap: the source's arm()
// moves it on and writes the eventfd, so the event sleep that follows ends
// on that event; the sleep hook does the same for packets that came during a
// nap.
struct modsrc {
	struct evsrc e;
	uint64_t now;
	uint64_t gap; // before the next event, from the last work
	bool nap_brings; // a nap's poll finds a packet
	bool quiet_arm; // arm() only moves the clock on: a timer ends the sleep
	std::vector<uint64_t> naps;
};

static unsigned int
modsrc_arm(struct ex_source *s)
{
	auto *m = EX_CONTAINER_OF(EX_CONTAINER_OF(s, struct evsrc, src), struct modsrc, e);
	m->e.arms++;
	m->now += m->gap;
	if (!m->quiet_arm)
		poke(m->e.fd);
	return 0;
}

static void
modsrc_nap(void *ctx, uint64_t ns)
{
	auto *m = static_cast<struct modsrc *>(ctx);
	m->naps.push_back(ns);
	m->now += ns;
	if (m->nap_brings)
		poke(m->e.fd);
}

// An executor on the fake clock that sleeps on m's events, with moderation
// of us microseconds after `after` busy wake-ups; NULL on failure.
static struct ex_executor *
modsrc_executor(struct modsrc *m, const char *name, uint32_t us, uint32_t after)
{
	*m = modsrc{};
	m->now = 5 * EX_NS_PER_S;
	struct ex_config cfg = event_config(name);
	cfg.idle_coalesce_us = us;
	cfg.idle_coalesce_after = after;
	cfg.clock = [](void *ctx) { return static_cast<modsrc *>(ctx)->now; };
	cfg.clock_ctx = m;
	cfg.idle_sleep = modsrc_nap;
	cfg.idle_sleep_ctx = m;
	struct ex_executor *ex = ex_executor_create(rte_lcore_id(), &cfg);
	if (ex == nullptr)
		return nullptr;
	evsrc_init(&m->e);
	m->e.src.arm = modsrc_arm;
	ex_register_source(ex, &m->e.src);
	return ex;
}

// Arm a timer that does nothing at `at` and run the loop, at most `iters`
// iterations, until it fires; whether it did.
static bool
run_to_timer(struct ex_executor *ex, uint64_t at, int iters)
{
	struct ex_timer t;
	ex_timer_init_callback(&t, [](struct ex_timer *) {});
	ex_timer_arm(ex_executor_wheel(ex), &t, at, nullptr);
	for (int i = 0; i < iters && ex_timer_armed(&t); i++)
		ex_run_once(ex);
	bool fired = !ex_timer_armed(&t);
	if (!fired)
		ex_timer_cancel(ex_executor_wheel(ex), &t);
	return fired;
}

TEST(IdleCoalesce, NapsOnlyOnceWakeUpsKeepComing_UntilANapFindsNothing)
{
	for (uint32_t us : { 100u, 0u }) {
		struct modsrc m;
		struct ex_executor *ex = modsrc_executor(&m, "idle_co", us, 3);
		ASSERT_NE(ex, nullptr);
		ASSERT_TRUE(ex_sleeps_on_events(ex));

		// One idle iteration and the one that polls after it: 'E' it
		// slept on events, 'N' it napped; the poll after found a packet.
		auto step = [&](uint64_t gap) {
			unsigned int arms = m.e.arms;
			size_t naps = m.naps.size();
			m.gap = gap;
			EXPECT_EQ(ex_run_once(ex), 0u) << "an idle iteration";
			char how = m.e.arms > arms ? 'E' : m.naps.size() > naps ? 'N' : '?';
			EXPECT_EQ(ex_run_once(ex), 1u) << "then the poll finds the packet";
			return how;
		};
		const uint64_t busy = 20 * EX_NS_PER_US, quiet = EX_COALESCE_QUIET_NS;
		std::string got;
		m.nap_brings = true;
		// A quiet spell, then traffic: a wake-up at the mark is quiet,
		// one just under it is busy; 3 busy in a row start the naps.
		for (uint64_t gap : std::vector<uint64_t>{ 10 * quiet, busy, busy, quiet, busy,
				     quiet - 1, busy, busy, busy, busy })
			got += step(gap);
		if (us == 0) {
			EXPECT_EQ(got, std::string(got.size(), 'E'))
					<< "no moderation set: events only";
			EXPECT_TRUE(m.naps.empty());
		} else {
			EXPECT_EQ(got, "EEEEEEENNN");
			// The traffic stops: the next nap's poll finds nothing...
			m.nap_brings = false;
			unsigned int arms = m.e.arms;
			EXPECT_EQ(ex_run_once(ex), 0u);
			EXPECT_EQ(m.e.arms, arms) << "napped";
			// ...so the loop sleeps on events again (the packet comes with
			// the event), and counts afresh: this busy wake-up is the 1st.
			m.nap_brings = true;
			EXPECT_EQ(ex_run_once(ex), 0u);
			EXPECT_EQ(m.e.arms, arms + 1) << "slept on events";
			EXPECT_EQ(ex_run_once(ex), 1u);
			got = step(busy);
			// A sleep a timer ends is no wake-up by traffic: not counted.
			m.quiet_arm = true;
			ASSERT_TRUE(run_to_timer(ex, m.now + 10 * EX_NS_PER_US, 100));
			m.quiet_arm = false;
			for (int i = 0; i < 3; i++)
				got += step(busy);
			EXPECT_EQ(got, "EENN") << "the 2nd and 3rd busy wake-ups, then naps";
			for (uint64_t ns : m.naps)
				EXPECT_EQ(ns, us * EX_NS_PER_US)
						<< "the set nap, not more nor less";
		}
		struct ex_stats s;
		ex_stats_read(ex, &s);
		EXPECT_EQ(s.idle_coalesce_waits, m.naps.size());
		EXPECT_EQ(s.idle_sleeps, s.idle_event_sleeps) << "moderation naps counted apart";
		ex_unregister(ex, &m.e.src);
		ex_executor_free(ex);
		close(m.e.fd);
	}
}

// A nap never runs past a timer: the timer fires on time and the naps go on.
TEST(IdleCoalesce, ANapEndsAtTheNextTimer)
{
	struct modsrc m;
	struct ex_executor *ex = modsrc_executor(&m, "idle_ct", 100, 1);
	ASSERT_NE(ex, nullptr);
	m.gap = 20 * EX_NS_PER_US;
	EXPECT_EQ(ex_run_once(ex), 0u);
	EXPECT_EQ(ex_run_once(ex), 1u) << "a busy wake-up: naps from now on";
	m.nap_brings = false;
	EXPECT_TRUE(run_to_timer(ex, m.now + 30 * EX_NS_PER_US, 10));
	ASSERT_FALSE(m.naps.empty());
	uint64_t napped = 0;
	for (uint64_t ns : m.naps)
		napped += ns;
	// (the wheel may wake it early, at a coarser level's bucket)
	EXPECT_LE(napped, 31 * EX_NS_PER_US) << "napped past the timer";
	ex_unregister(ex, &m.e.src);
	ex_executor_free(ex);
	close(m.e.fd);
}

TEST_F(IdleEvents, WorkFoundWhileArming_NoSleep)
{
	e.work_at_arm = true; // a packet came between the last poll and the arm
	auto t0 = steady::now();
	ex_run_once(ex);
	EXPECT_LT(ms_since(t0), 500.0);
	struct ex_stats s = Stats();
	EXPECT_EQ(s.idle_event_sleeps, 0u) << "slept with work waiting";
	EXPECT_EQ(e.arms, 1u);
	EXPECT_EQ(e.disarms, 1u) << "what was armed is disarmed even without a sleep";
}

TEST_F(IdleEvents, NoEvent_TheSleepEndsAtTheNextTimer)
{
	struct ex_timer t;
	ex_timer_init_callback(&t, [](struct ex_timer *) {});
	ex_timer_arm(ex_executor_wheel(ex), &t, ex_now_ns(ex) + 60 * EX_NS_PER_MS, nullptr);
	auto t0 = steady::now();
	for (int i = 0; i < 100 && ex_timer_armed(&t); i++)
		ex_run_once(ex);
	double took = ms_since(t0);
	EXPECT_FALSE(ex_timer_armed(&t)) << "the timer never fired";
	EXPECT_GE(took, 55.0) << "the timer fired early";
	EXPECT_LT(took, 1000.0) << "slept past the timer";
	struct ex_stats s = Stats();
	EXPECT_GE(s.idle_event_sleeps, 1u);
	EXPECT_EQ(s.idle_event_wakes, 0u) << "a timeout is not an event";
}

// A flush source holding something due `in_ms` after each iteration starts.
struct holding {
	struct ex_source src;
	struct ex_executor *ex;
	uint64_t in_ms;
};

unsigned int
holding_fn(struct ex_source *s)
{
	auto *h = EX_CONTAINER_OF(s, struct holding, src);
	ex_wake_by(h->ex, ex_now_coarse_ns(h->ex) + h->in_ms * EX_NS_PER_MS);
	return 0;
}

TEST_F(IdleEvents, ASourcesDeadline_EndsTheSleepOnTime_AnEventStillEndsItSooner)
{
	struct holding h = {};
	h.src.fn = holding_fn;
	h.src.name = "holding";
	h.ex = ex;
	h.in_ms = 60;
	ex_register_flush(ex, &h.src);
	auto t0 = steady::now();
	EXPECT_EQ(ex_run_once(ex), 0u);
	double slept = ms_since(t0);
	EXPECT_GE(slept, 55.0) << "woke before the deadline with nothing to do";
	EXPECT_LT(slept, 1000.0) << "slept past the deadline, towards the 2 s cap";
	struct ex_stats s = Stats();
	EXPECT_EQ(s.idle_event_sleeps, 1u) << "a deadline still sleeps on the events";
	EXPECT_EQ(s.idle_event_wakes, 0u) << "a deadline is not an event";

	h.in_ms = 1500; // a packet comes long before the deadline
	std::thread packet([&] {
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
		poke(e.fd);
	});
	t0 = steady::now();
	ex_run_once(ex);
	slept = ms_since(t0);
	packet.join();
	EXPECT_LT(slept, 1000.0) << "the event did not end a sleep bounded by a deadline";
	EXPECT_EQ(ex_run_once(ex), 1u) << "the packet is there";
	ASSERT_EQ(ex_unregister(ex, &h.src), 0);
}

TEST_F(IdleEvents, ARemoteSpawnEndsTheSleep)
{
	struct ex_ready r;
	struct ex_join_handle jh;
	ex_ready_init(&r, 7);
	ex_join_handle_init(&jh);
	// From a thread that runs no executor: the inbox, then the eventfd.
	std::thread other([&] {
		std::this_thread::sleep_for(std::chrono::milliseconds(100));
		ASSERT_EQ(ex_spawn_to(ex, &r.base, &jh, nullptr), 0);
	});
	auto t0 = steady::now();
	for (int i = 0; i < 10 && !ex_join_handle_done(&jh); i++)
		ex_run_once(ex);
	double took = ms_since(t0);
	other.join();
	EXPECT_TRUE(ex_join_handle_done(&jh));
	EXPECT_EQ(jh.result, 7);
	EXPECT_LT(took, 1000.0) << "the spawn did not wake the sleeping executor";
	EXPECT_GE(Stats().idle_event_wakes, 1u);
}

TEST_F(IdleEvents, StopFromAnotherThreadEndsRun)
{
	for (int which = 0; which < 2; which++) {
		std::thread other([&] {
			std::this_thread::sleep_for(std::chrono::milliseconds(100));
			if (which == 0)
				ex_stop(ex);
			else
				ex_stop_all(); // what a signal handler calls
		});
		auto t0 = steady::now();
		EXPECT_EQ(ex_run(ex), 0);
		double took = ms_since(t0);
		other.join();
		EXPECT_LT(took, 1000.0) << (which == 0 ? "ex_stop" : "ex_stop_all")
					<< " did not wake the sleeping loop";
	}
}

TEST_F(IdleEvents, ASourceWithoutAnEvent_NapsInstead)
{
	struct evsrc plain;
	evsrc_init(&plain);
	ex_source_set_event(&plain.src, -1, nullptr, nullptr); // e.g. a ring: no fd
	ex_register_source(ex, &plain.src);
	EXPECT_FALSE(ex_sleeps_on_events(ex)) << "work could reach it with no fd saying so";
	ex_run_once(ex);
	struct ex_stats s = Stats();
	EXPECT_EQ(s.idle_event_sleeps, 0u);
	EXPECT_EQ(s.idle_sleeps, 1u) << "it naps (at most idle_sleep_us)";
	ASSERT_EQ(ex_unregister(ex, &plain.src), 0);
	EXPECT_TRUE(ex_sleeps_on_events(ex)) << "with it gone, every source has an event again";
	close(plain.fd);

	// An fd epoll cannot watch (a regular file) gives the source no event.
	struct evsrc file;
	evsrc_init(&file);
	close(file.fd);
	file.fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	ASSERT_GE(file.fd, 0);
	ex_source_set_event(&file.src, file.fd, evsrc_arm, evsrc_disarm);
	ex_register_source(ex, &file.src);
	EXPECT_FALSE(ex_sleeps_on_events(ex));
	ASSERT_EQ(ex_unregister(ex, &file.src), 0);
	EXPECT_TRUE(ex_sleeps_on_events(ex));
	close(file.fd);
}

namespace
{
// A ring between threads as a kicked source: no fd, its producer kicks.
struct ringsrc {
	struct ex_source src;
	struct rte_ring *r;
	unsigned int got;
	unsigned int arms;
};

unsigned int
ringsrc_fn(struct ex_source *s)
{
	auto *k = EX_CONTAINER_OF(s, struct ringsrc, src);
	void *obj[8];
	unsigned int n = rte_ring_dequeue_burst(k->r, obj, 8, nullptr);
	k->got += n;
	return n;
}

unsigned int
ringsrc_arm(struct ex_source *s)
{
	auto *k = EX_CONTAINER_OF(s, struct ringsrc, src);
	k->arms++;
	return rte_ring_count(k->r) != 0;
}
} // namespace

TEST_F(IdleEvents, AKickedSource_SleepsOnEvents_AndTheKickAfterAnEnqueueWakesIt)
{
	struct ringsrc k = {};
	k.r = rte_ring_create("idle_kick", 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	ASSERT_NE(k.r, nullptr);
	k.src.fn = ringsrc_fn;
	k.src.name = "ringsrc";
	ex_source_set_kicked(&k.src, ringsrc_arm);
	ex_register_source(ex, &k.src);
	EXPECT_TRUE(ex_sleeps_on_events(ex)) << "a kicked source counts as one with an event";

	// Another lcore's burst, then its kick: the sleep ends at once.
	std::thread producer([&] {
		std::this_thread::sleep_for(std::chrono::milliseconds(100));
		static int item;
		ASSERT_EQ(rte_ring_enqueue(k.r, &item), 0);
		ex_kick(ex);
	});
	auto t0 = steady::now();
	for (int i = 0; i < 10 && k.got == 0; i++)
		ex_run_once(ex);
	double took = ms_since(t0);
	producer.join();
	EXPECT_EQ(k.got, 1u);
	EXPECT_GE(took, 80.0) << "woke before anything happened";
	EXPECT_LT(took, 1000.0) << "the kick did not wake it: it slept towards the 2 s cap";
	EXPECT_GE(Stats().idle_event_wakes, 1u);
	EXPECT_GE(k.arms, 1u);

	// Kicking an executor that is awake, or NULL, does nothing.
	ex_kick(ex);
	ex_kick(nullptr);
	ASSERT_EQ(ex_unregister(ex, &k.src), 0);
	EXPECT_TRUE(ex_sleeps_on_events(ex));
	rte_ring_free(k.r);
}

TEST_F(IdleEvents, AKickedSourcesArm_FindsWorkLeftWithoutAKick_NoSleep)
{
	struct ringsrc k = {};
	k.r = rte_ring_create("idle_kick2", 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	ASSERT_NE(k.r, nullptr);
	k.src.fn = [](struct ex_source *) -> unsigned int { return 0; }; // misses it
	k.src.name = "ringsrc";
	ex_source_set_kicked(&k.src, ringsrc_arm);
	ex_register_source(ex, &k.src);
	static int item;
	ASSERT_EQ(rte_ring_enqueue(k.r, &item), 0); // as if it came after the poll
	auto t0 = steady::now();
	ex_run_once(ex);
	EXPECT_LT(ms_since(t0), 500.0) << "slept with work in the ring";
	EXPECT_EQ(Stats().idle_event_sleeps, 0u);
	EXPECT_EQ(k.arms, 1u);
	ASSERT_EQ(ex_unregister(ex, &k.src), 0);
	rte_ring_free(k.r);
}

TEST(IdleEventsConfig, BusyPollOrAZeroCap_NeverSleepOnEvents)
{
	struct evsrc e;
	evsrc_init(&e);
	for (int which = 0; which < 2; which++) {
		struct ex_config cfg = event_config("idle_cfg");
		if (which == 0)
			cfg.idle_policy = EX_IDLE_POLICY_BUSY_POLL;
		else
			cfg.idle_event_us = 0;
		struct ex_executor *ex = ex_executor_create(rte_lcore_id(), &cfg);
		ASSERT_NE(ex, nullptr);
		ex_register_source(ex, &e.src);
		EXPECT_FALSE(ex_sleeps_on_events(ex)) << which;
		ASSERT_EQ(ex_unregister(ex, &e.src), 0);
		ex_executor_free(ex);
	}
	close(e.fd);
}
