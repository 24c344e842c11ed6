// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for executor/ex_channel.c: bounded channel within an lcore and
// across two lcores, backpressure, close, receiver gone.
#include <cerrno>
#include <vector>

#include <rte_launch.h>
#include <rte_memory.h>

#include "ex_channel.h"
#include "ut_helpers.h"

using ChannelTest = ExecutorFixture;

struct reader {
	struct ex_future base;
	struct ex_stream *rx;
	uint64_t expect; // next value
	uint64_t count;
	bool in_order;
};
static enum ex_poll
reader_poll(struct ex_future *f, struct ex_context *cx)
{
	reader *r = EX_CONTAINER_OF(f, reader, base);
	union ex_item it;
	for (;;) {
		switch (ex_stream_poll_next(r->rx, cx, &it)) {
		case EX_NEXT_ITEM:
			r->in_order &= it.u64 == r->expect;
			r->expect++;
			r->count++;
			continue;
		case EX_NEXT_END:
			return EX_READY;
		case EX_NEXT_PENDING:
			return EX_PENDING;
		}
	}
}
static const struct ex_future_ops reader_ops = { reader_poll, nullptr, "reader" };

static void
reader_init(reader *r, struct ex_stream *rx)
{
	ex_future_init(&r->base, &reader_ops);
	r->rx = rx;
	r->expect = 1;
	r->count = 0;
	r->in_order = true;
}

TEST_F(ChannelTest, Init_BadArguments)
{
	struct ex_channel ch;
	EXPECT_EQ(ex_channel_init(&ch, 0, EX_CHANNEL_LOCAL, SOCKET_ID_ANY), -EINVAL);
	EXPECT_EQ(ex_channel_init(&ch, 8, (enum ex_channel_kind)7, SOCKET_ID_ANY), -EINVAL);
}

TEST_F(ChannelTest, Local_ForwardThroughSmallChannel_AllInOrder)
{
	std::vector<union ex_item> v(1000);
	for (size_t i = 0; i < v.size(); i++)
		v[i].u64 = i + 1;
	struct ex_channel ch;
	ASSERT_EQ(ex_channel_init(&ch, 4, EX_CHANNEL_LOCAL, SOCKET_ID_ANY), 0);
	struct ex_stream_iter it;
	struct ex_forward fw;
	reader r;
	struct ex_join2 j;
	ex_stream_iter_init(&it, v.data(), (uint32_t)v.size());
	ex_forward_init(&fw, &it.base, &ch.tx, nullptr, nullptr);
	reader_init(&r, &ch.rx);
	ex_join2_init(&j, &fw.base, &r.base);
	EXPECT_EQ(ex_block_on(ex, &j.base), 0);
	EXPECT_EQ(r.count, 1000u);
	EXPECT_TRUE(r.in_order);
	EXPECT_EQ(ex_channel_len(&ch), 0u);
	ex_channel_fini(&ch, nullptr, nullptr);
}

TEST_F(ChannelTest, Local_FullChannel_SenderPending)
{
	struct ex_channel ch;
	struct ex_context cx = { ex_waker_noop() };
	ASSERT_EQ(ex_channel_init(&ch, 2, EX_CHANNEL_LOCAL, SOCKET_ID_ANY), 0);
	union ex_item it = { nullptr };
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(ch.tx.ops->poll_ready(&ch.tx, &cx), EX_READY);
		ASSERT_EQ(ch.tx.ops->start_send(&ch.tx, it), 0);
	}
	EXPECT_EQ(ch.tx.ops->poll_ready(&ch.tx, &cx), EX_PENDING);
	EXPECT_EQ(ch.tx.ops->start_send(&ch.tx, it), -ENOBUFS);
	int released = 0;
	ex_channel_fini(
			&ch, [](union ex_item, void *a) { (*static_cast<int *>(a))++; }, &released);
	EXPECT_EQ(released, 2) << "items left inside are released, not leaked";
}

TEST_F(ChannelTest, Local_ReceiverGone_SenderEPIPE)
{
	struct ex_channel ch;
	struct ex_context cx = { ex_waker_noop() };
	ASSERT_EQ(ex_channel_init(&ch, 2, EX_CHANNEL_LOCAL, SOCKET_ID_ANY), 0);
	ex_stream_drop(&ch.rx);
	EXPECT_EQ(ch.tx.ops->poll_ready(&ch.tx, &cx), EX_READY);
	EXPECT_EQ(ch.tx.error, -EPIPE);
	union ex_item it = { nullptr };
	EXPECT_EQ(ch.tx.ops->start_send(&ch.tx, it), -EPIPE);
	ex_channel_fini(&ch, nullptr, nullptr);
}

static int
run_executor(void *arg)
{
	return ex_run(static_cast<struct ex_executor *>(arg));
}

TEST_F(ChannelTest, Shared_ProducerOnOtherLcore_AllInOrder)
{
	unsigned int worker = rte_get_next_lcore(rte_lcore_id(), 1, 0);
	if (worker >= RTE_MAX_LCORE)
		GTEST_SKIP() << "needs two lcores";
	constexpr uint32_t N = 100000;
	std::vector<union ex_item> v(N);
	for (uint32_t i = 0; i < N; i++)
		v[i].u64 = i + 1;
	struct ex_channel ch;
	ASSERT_EQ(ex_channel_init(&ch, 64, EX_CHANNEL_SHARED, SOCKET_ID_ANY), 0);

	struct ex_config rc;
	ex_config_defaults(&rc);
	rc.name = "chan";
	rc.max_tasks = 16;
	rc.idle_policy = EX_IDLE_POLICY_BACKOFF;
	rc.idle_spins = 64;
	rc.idle_sleep_us = 20;
	struct ex_executor *remote = ex_executor_create(worker, &rc);
	ASSERT_NE(remote, nullptr);

	struct ex_stream_iter it;
	struct ex_forward fw;
	struct ex_join_handle fjh;
	ex_stream_iter_init(&it, v.data(), N);
	ex_forward_init(&fw, &it.base, &ch.tx, nullptr, nullptr);
	ex_join_handle_init(&fjh);
	ASSERT_EQ(ex_spawn_to(remote, &fw.base, &fjh, nullptr), 0);
	ASSERT_EQ(rte_eal_remote_launch(run_executor, remote, worker), 0);

	reader r;
	reader_init(&r, &ch.rx);
	EXPECT_EQ(ex_block_on(ex, &r.base), 0);
	EXPECT_EQ(r.count, N);
	EXPECT_TRUE(r.in_order);
	while (!ex_join_handle_done(&fjh))
		;
	EXPECT_EQ(fjh.result, 0);
	ex_stop(remote);
	rte_eal_wait_lcore(worker);
	ex_executor_free(remote);
	ex_channel_fini(&ch, nullptr, nullptr);
}
