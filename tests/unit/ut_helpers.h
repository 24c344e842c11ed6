// SPDX-License-Identifier: BSD-3-Clause
//
// ut_helpers.h - fixtures shared by the unit tests: an injected clock, an
// executor fixture that checks the task pool is full again after each test,
// and small hand-driven futures (a gate that opens when the test says so).
#ifndef RIPTIDE_UT_HELPERS_H
#define RIPTIDE_UT_HELPERS_H

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <rte_lcore.h>
#include <rte_log.h>

#include "ex_combinator.h"
#include "ex_executor.h"
#include "ex_future.h"
#include "ex_timer.h"

// A clock the test moves by hand.
struct ut_clock {
	uint64_t now = 1000000;
};

static inline uint64_t
ut_clock_read(void *ctx)
{
	return static_cast<ut_clock *>(ctx)->now;
}

// A future that stays pending until the test opens it; counts polls and
// drops so tests can prove who was polled and who was cancelled.
struct ut_gate {
	struct ex_future base;
	bool open;
	int32_t value;
	struct ex_atomic_waker waker; // the gate may be opened from another lcore
	int polls;
	int drops;
};

static enum ex_poll
ut_gate_poll(struct ex_future *f, struct ex_context *cx)
{
	struct ut_gate *g = EX_CONTAINER_OF(f, struct ut_gate, base);

	g->polls++;
	if (!__atomic_load_n(&g->open, __ATOMIC_ACQUIRE)) {
		ex_atomic_waker_register(&g->waker, &cx->waker);
		if (!__atomic_load_n(&g->open, __ATOMIC_ACQUIRE))
			return EX_PENDING;
	}
	f->result = g->value;
	return EX_READY;
}

static void
ut_gate_drop(struct ex_future *f)
{
	EX_CONTAINER_OF(f, struct ut_gate, base)->drops++;
}

static const struct ex_future_ops ut_gate_ops = { ut_gate_poll, ut_gate_drop, "ut_gate" };

static inline void
ut_gate_init(struct ut_gate *g)
{
	ex_future_init(&g->base, &ut_gate_ops);
	g->open = false;
	g->value = 0;
	ex_atomic_waker_init(&g->waker);
	g->polls = 0;
	g->drops = 0;
}

// Open the gate and wake whoever waits on it (from any lcore).
static inline void
ut_gate_open(struct ut_gate *g, int32_t value)
{
	g->value = value;
	__atomic_store_n(&g->open, true, __ATOMIC_RELEASE);
	ex_atomic_waker_wake(&g->waker);
}

// An executor on the calling thread with an injected clock; after each test
// it must hold no live task and have its whole pool free.
// What riptide logs through rte_log while one lives (tests of the messages
// that name a bad field).
class LogCapture
{
      public:
	LogCapture()
	{
		f_ = open_memstream(&buf_, &len_);
		rte_openlog_stream(f_);
	}
	~LogCapture()
	{
		rte_openlog_stream(nullptr); // back to the default stream
		fclose(f_);
		free(buf_);
	}
	std::string Text()
	{
		fflush(f_);
		return std::string(buf_, len_);
	}

      private:
	FILE *f_ = nullptr;
	char *buf_ = nullptr;
	size_t len_ = 0;
};

class ExecutorFixture : public ::testing::Test
{
      protected:
	static constexpr uint32_t kMaxTasks = 64;
	ut_clock clk;
	struct ex_config cfg;
	struct ex_executor *ex = nullptr;

	void SetUp() override
	{
		DefaultConfig();
		Remake();
	}

	// The fixture's executor config: busy-poll, on the injected clock.
	void DefaultConfig()
	{
		ex_config_defaults(&cfg);
		cfg.name = "ut";
		cfg.max_tasks = kMaxTasks;
		cfg.clock = ut_clock_read;
		cfg.clock_ctx = &clk;
	}

	// (Re)make the executor from cfg, for a test that changes it.
	void Remake()
	{
		if (ex != nullptr)
			ex_executor_free(ex);
		ex = ex_executor_create(rte_lcore_id(), &cfg);
		ASSERT_NE(ex, nullptr);
		// The test thread plays the executor's lcore from here on: its
		// spawns and wakes are local.
		ex_run_once(ex);
	}

	void TearDown() override
	{
		if (ex == nullptr)
			return;
		Run(4);
		EXPECT_EQ(ex_tasks_live(ex), 0u) << "a test left tasks running";
		EXPECT_EQ(ex_tasks_free(ex), kMaxTasks) << "task slots leaked";
		EXPECT_EQ(ex_executor_wheel(ex)->armed, 0u) << "timers left armed";
		ex_executor_free(ex);
	}

	void Run(int iterations = 16)
	{
		for (int i = 0; i < iterations; i++)
			ex_run_once(ex);
	}

	// Move the injected clock forward and let the loop see it.
	void Advance(uint64_t ns)
	{
		clk.now += ns;
		Run();
	}

	struct ex_stats Stats()
	{
		struct ex_stats s;
		ex_stats_read(ex, &s);
		return s;
	}
};

#endif
