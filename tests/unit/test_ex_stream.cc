// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for executor/ex_stream.c: iter, map, filter, take, next,
// forward with sink backpressure and release of held items.
#include <cerrno>
#include <vector>

#include "ex_stream.h"
#include "ut_helpers.h"

using StreamTest = ExecutorFixture;

// A sink that takes at most `room` items until the test drains it.
struct test_sink {
	struct ex_sink base;
	std::vector<uint64_t> got;
	size_t room;
	size_t flushes;
	bool closed;
	int fail_with;
	struct ex_waker waiter;
};
static enum ex_poll
ts_ready(struct ex_sink *k, struct ex_context *cx)
{
	test_sink *s = EX_CONTAINER_OF(k, test_sink, base);
	if (s->got.size() < s->room)
		return EX_READY;
	s->waiter = cx->waker;
	return EX_PENDING;
}
static int
ts_send(struct ex_sink *k, union ex_item item)
{
	test_sink *s = EX_CONTAINER_OF(k, test_sink, base);
	if (s->fail_with)
		return s->fail_with;
	s->got.push_back(item.u64);
	return 0;
}
static enum ex_poll
ts_flush(struct ex_sink *k, struct ex_context *)
{
	EX_CONTAINER_OF(k, test_sink, base)->flushes++;
	return EX_READY;
}
static enum ex_poll
ts_close(struct ex_sink *k, struct ex_context *)
{
	EX_CONTAINER_OF(k, test_sink, base)->closed = true;
	return EX_READY;
}
static const struct ex_sink_ops ts_ops = { ts_ready, ts_send, ts_flush, ts_close, "test_sink" };

static void
ts_init(test_sink *s, size_t room)
{
	s->base.ops = &ts_ops;
	s->base.error = 0;
	s->room = room;
	s->flushes = 0;
	s->closed = false;
	s->fail_with = 0;
	s->waiter = ex_waker_noop();
}

static std::vector<union ex_item>
items(uint64_t n)
{
	std::vector<union ex_item> v(n);
	for (uint64_t i = 0; i < n; i++)
		v[i].u64 = i + 1;
	return v;
}

static union ex_item
times_ten(union ex_item it, void *)
{
	it.u64 *= 10;
	return it;
}

static bool
is_even(union ex_item it, void *)
{
	return it.u64 % 2 == 0;
}

static void
count_release(union ex_item, void *arg)
{
	(*static_cast<int *>(arg))++;
}

// Drains a stream with next(), as `while let Some(x) = s.next().await`.
struct collect {
	struct ex_future base;
	struct ex_next_fut next;
	std::vector<uint64_t> *out;
};
static enum ex_poll
collect_poll(struct ex_future *f, struct ex_context *cx)
{
	collect *c = EX_CONTAINER_OF(f, collect, base);
	for (;;) {
		if (ex_await(&c->next.base, cx) == EX_PENDING)
			return EX_PENDING;
		if (c->next.base.result <= 0) {
			f->result = c->next.base.result;
			return EX_READY;
		}
		c->out->push_back(c->next.item.u64);
		ex_next_init(&c->next, c->next.stream);
	}
}
static const struct ex_future_ops collect_ops = { collect_poll, nullptr, "collect" };

static std::vector<uint64_t>
drain(struct ex_executor *ex, struct ex_stream *s)
{
	std::vector<uint64_t> out;
	collect c;
	ex_future_init(&c.base, &collect_ops);
	ex_next_init(&c.next, s);
	c.out = &out;
	EXPECT_EQ(ex_block_on(ex, &c.base), 0);
	return out;
}

TEST_F(StreamTest, Iter_YieldsAllThenEnd)
{
	auto v = items(5);
	struct ex_stream_iter it;
	ex_stream_iter_init(&it, v.data(), (uint32_t)v.size());
	EXPECT_EQ(drain(ex, &it.base), (std::vector<uint64_t>{ 1, 2, 3, 4, 5 }));
}

TEST_F(StreamTest, MapFilterTake_Compose)
{
	auto v = items(20);
	int released = 0;
	struct ex_stream_iter it;
	struct ex_stream_filter f;
	struct ex_stream_map m;
	struct ex_stream_take t;
	ex_stream_iter_init(&it, v.data(), (uint32_t)v.size());
	ex_stream_filter_init(&f, &it.base, is_even, count_release, &released);
	ex_stream_map_init(&m, &f.base, times_ten, nullptr);
	ex_stream_take_init(&t, &m.base, 3);
	EXPECT_EQ(drain(ex, &t.base), (std::vector<uint64_t>{ 20, 40, 60 }));
	EXPECT_EQ(released, 3) << "rejected items 1, 3, 5 were released";
}

TEST_F(StreamTest, Filter_LongRunOfRejects_Yields)
{
	auto v = items(1000);
	int released = 0;
	struct ex_stream_iter it;
	struct ex_stream_filter f;
	ex_stream_iter_init(&it, v.data(), (uint32_t)v.size());
	ex_stream_filter_init(
			&f, &it.base, [](union ex_item i, void *) { return i.u64 == 1000; },
			count_release, &released);
	EXPECT_EQ(drain(ex, &f.base), (std::vector<uint64_t>{ 1000 }));
	EXPECT_EQ(released, 999);
	EXPECT_GT(Stats().polls, 1000u / 64) << "the filter yielded between batches";
}

TEST_F(StreamTest, Forward_Backpressure_SinkFullMeansPending)
{
	auto v = items(10);
	struct ex_stream_iter it;
	test_sink sink;
	struct ex_forward fw;
	struct ex_join_handle jh;
	ex_stream_iter_init(&it, v.data(), (uint32_t)v.size());
	ts_init(&sink, 4);
	ex_forward_init(&fw, &it.base, &sink.base, nullptr, nullptr);
	ex_join_handle_init(&jh);
	ASSERT_EQ(ex_spawn_to(ex, &fw.base, &jh, nullptr), 0);
	Run(4);
	EXPECT_EQ(sink.got.size(), 4u) << "the sink took what it had room for";
	EXPECT_FALSE(ex_join_handle_done(&jh));
	EXPECT_TRUE(fw.has_pending) << "the fifth item waits in forward, not lost";
	sink.room = 100;
	ex_waker_wake(&sink.waiter);
	Run(4);
	ASSERT_TRUE(ex_join_handle_done(&jh));
	EXPECT_EQ(jh.result, 0);
	EXPECT_EQ(sink.got.size(), 10u);
	EXPECT_TRUE(sink.closed);
	EXPECT_EQ(fw.items, 10u);
}

TEST_F(StreamTest, Forward_SinkFails_HeldItemReleased)
{
	auto v = items(3);
	int released = 0;
	struct ex_stream_iter it;
	test_sink sink;
	struct ex_forward fw;
	ex_stream_iter_init(&it, v.data(), (uint32_t)v.size());
	ts_init(&sink, 100);
	sink.fail_with = -EPIPE;
	ex_forward_init(&fw, &it.base, &sink.base, count_release, &released);
	EXPECT_EQ(ex_block_on(ex, &fw.base), -EPIPE);
	EXPECT_EQ(released, 1);
}

TEST_F(StreamTest, Forward_Dropped_HeldItemReleased)
{
	auto v = items(3);
	int released = 0;
	struct ex_stream_iter it;
	test_sink sink;
	struct ex_forward fw;
	struct ex_task_ref ref;
	ex_stream_iter_init(&it, v.data(), (uint32_t)v.size());
	ts_init(&sink, 0); // never ready
	ex_forward_init(&fw, &it.base, &sink.base, count_release, &released);
	ASSERT_EQ(ex_spawn_to(ex, &fw.base, nullptr, &ref), 0);
	Run(2);
	ASSERT_EQ(ex_task_cancel(&ref), 0);
	Run(2);
	EXPECT_EQ(released, 1);
}
