// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for the socket futures of tcpstack/tcp_sock.c that outlive
// what they wait on: a future dropped after its connection was closed and
// the slot reused must not take the new connection's wake-up (review L13).
#include "tcp_fixture.h"

namespace
{

class TcpSock : public TcpTest
{
};

TEST_F(TcpSock, RecvDroppedAfterClose_SlotReused_NewReaderKeepsItsWakeup)
{
	struct tcp_conn *a = Accept();
	struct tcp_recv ra;
	tcp_recv_init(&ra, a, 0);
	ASSERT_EQ(ex_future_poll(&ra.base, &cx), EX_PENDING);
	tcp_abort(a); // the application closes first, its read still pending
	Sent();
	peer_seq += 100000; // a new connection from the same port
	struct tcp_conn *b = Accept();
	ASSERT_EQ(b, a) << "the slot is reused (LIFO free list)";
	struct tcp_recv rb;
	tcp_recv_init(&rb, b, 0);
	ASSERT_EQ(ex_future_poll(&rb.base, &cx), EX_PENDING);
	ASSERT_TRUE(b->rx_waiting);
	ex_future_drop(&ra.base); // the stale one goes now (a select, a timeout)
	EXPECT_TRUE(b->rx_waiting) << "the new reader's wake-up was taken";
	In(Data("for b"));
	ASSERT_EQ(ex_future_poll(&rb.base, &cx), EX_READY);
	EXPECT_EQ(rb.base.result, 5);
	rte_pktmbuf_free(rb.m);
	Sent();
	tcp_abort(b);
}

TEST_F(TcpSock, WriteDroppedAfterClose_SlotReused_NewWriterKeepsItsWakeup)
{
	struct tcp_conn *a = Accept();
	In(Ack(our_seq, 0)); // a zero window: the write waits
	std::string big(300000, 'w');
	struct tcp_write wa;
	tcp_write_init(&wa, a, big.data(), (uint32_t)big.size());
	ASSERT_EQ(ex_future_poll(&wa.base, &cx), EX_PENDING);
	tcp_abort(a);
	Sent();
	peer_seq += 100000;
	struct tcp_conn *b = Accept();
	ASSERT_EQ(b, a);
	In(Ack(our_seq, 0));
	struct tcp_write wb;
	tcp_write_init(&wb, b, big.data(), (uint32_t)big.size());
	ASSERT_EQ(ex_future_poll(&wb.base, &cx), EX_PENDING);
	ASSERT_TRUE(b->tx_waiting);
	ex_future_drop(&wa.base);
	EXPECT_TRUE(b->tx_waiting) << "the new writer's wake-up was taken";
	ex_future_drop(&wb.base);
	Sent();
	tcp_abort(b);
}

} // namespace
