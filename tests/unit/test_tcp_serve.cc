// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for tcpstack/tcp_serve.c: a listener that spawns a session per
// connection into a slab. Sessions run as tasks and end on the peer's FIN,
// giving their slot back; with every slot in use a new connection is reset
// and counted; a start function that refuses gets the same; shutdown drops
// the live sessions, whose drop resets their connections.
#include <set>

#include "tcp_fixture.h"
#include "tcp_serve.h"

namespace
{

// A session: read until the peer's FIN, count the bytes, close.
struct sink_session {
	struct ex_future base;
	struct tcp_conn *c;
	struct tcp_recv rx;
	uint64_t bytes;
};

int sessions_ended, sessions_dropped;

enum ex_poll
sink_poll(struct ex_future *f, struct ex_context *cx)
{
	auto *s = EX_CONTAINER_OF(f, struct sink_session, base);

	while (ex_await(&s->rx.base, cx) == EX_READY) {
		if (s->rx.base.result <= 0) {
			tcp_close(s->c);
			sessions_ended++;
			return EX_READY;
		}
		s->bytes += (uint64_t)s->rx.base.result;
		rte_pktmbuf_free(s->rx.m);
		tcp_recv_init(&s->rx, s->c, 0);
	}
	return EX_PENDING;
}

void
sink_drop(struct ex_future *f)
{
	auto *s = EX_CONTAINER_OF(f, struct sink_session, base);

	ex_future_drop(&s->rx.base);
	tcp_abort(s->c);
	sessions_dropped++;
}

const struct ex_future_ops sink_ops = { sink_poll, sink_drop, "sink_session" };

bool refuse_next;

struct ex_future *
sink_start(void *slot, struct tcp_conn *c, void *arg)
{
	auto *s = static_cast<struct sink_session *>(slot);

	(void)arg;
	if (refuse_next)
		return nullptr;
	ex_future_init(&s->base, &sink_ops);
	s->c = c;
	tcp_recv_init(&s->rx, c, 0);
	return &s->base;
}

class TcpServe : public TcpTest
{
      protected:
	struct ex_slab *slab = nullptr;
	struct tcp_serve srv;

	void SetUp() override
	{
		TcpTest::SetUp();
		sessions_ended = sessions_dropped = 0;
		refuse_next = false;
		slab = EX_SLAB_CREATE(ex, "ut_serve", struct sink_session, 2);
		ASSERT_NE(slab, nullptr);
		ASSERT_EQ(tcp_serve_start(&srv, &tcp, 0, kOurPort, 16, slab, sink_start, nullptr),
				0);
	}

	void TearDown() override
	{
		ex_executor_shutdown(ex); // drops the server task and live sessions
		stack_timers = 0; // the shutdown cleared the wheel, the stack's timer too
		tcp_serve_close(&srv);
		EXPECT_EQ(ex_slab_free(slab), 0);
		FreeOut();
		TcpTest::TearDown();
	}

	// The peer's handshake from port; the server's task runs after it.
	peer_conn Connect(uint16_t port)
	{
		uint32_t iss = 100000u * port;
		In(Seg(TCP_FLAG_SYN, iss, 0, "", 64240, peer_opts(), port));
		out_seg sa = One();
		In(Seg(TCP_FLAG_ACK, iss + 1, sa.seg.seq + 1, "", 64240, peer_opts(), port));
		Run(4);
		return peer_conn{ nullptr, port, iss + 1, sa.seg.seq + 1 };
	}

	// The ports the server reset since the last look.
	std::set<uint16_t> Resets()
	{
		std::set<uint16_t> r;
		for (auto &o : Sent())
			if (o.seg.flags & TCP_FLAG_RST)
				r.insert(o.seg.dport);
		return r;
	}
};

} // namespace

TEST_F(TcpServe, SessionPerConnection_FullSlabResets_EndedSessionFreesItsSlot)
{
	peer_conn a = Connect(40001), b = Connect(40002);
	EXPECT_EQ(srv.accepted, 2u);
	EXPECT_EQ(ex_slab_in_use(slab), 2u);
	EXPECT_TRUE(Resets().empty());
	Connect(40003);
	EXPECT_EQ(Resets(), std::set<uint16_t>{ 40003 }) << "every slot in use: a RST";
	EXPECT_EQ(srv.refused, 1u);
	// a sends data and its FIN: its session ends and its slot comes back.
	In(Seg(TCP_FLAG_ACK | TCP_FLAG_PSH, a.seq, a.ack, "hello", 64240, peer_opts(), a.port));
	In(Seg(TCP_FLAG_ACK | TCP_FLAG_FIN, a.seq + 5, a.ack, "", 64240, peer_opts(), a.port));
	Run(4);
	EXPECT_EQ(sessions_ended, 1);
	EXPECT_EQ(ex_slab_in_use(slab), 1u);
	FreeOut();
	Connect(40004);
	EXPECT_TRUE(Resets().empty()) << "the freed slot serves the next connection";
	EXPECT_EQ(srv.accepted, 3u);
	(void)b;
	// b and 40004 are live at shutdown: dropped, each connection reset.
	ex_executor_shutdown(ex);
	EXPECT_EQ(sessions_dropped, 2);
	EXPECT_EQ(Resets(), (std::set<uint16_t>{ 40002, 40004 }));
	Leaves(1); // a's connection finishes its close alone (LAST_ACK)
}

TEST_F(TcpServe, StartRefuses_ConnectionReset_SlotBack)
{
	refuse_next = true;
	Connect(40011);
	EXPECT_EQ(Resets(), std::set<uint16_t>{ 40011 });
	EXPECT_EQ(srv.refused, 1u);
	EXPECT_EQ(srv.accepted, 0u);
	EXPECT_EQ(ex_slab_in_use(slab), 0u);
}

TEST_F(TcpServe, PortInUse_StartFails_NothingSpawned)
{
	struct tcp_serve second;
	LogCapture log;
	EXPECT_EQ(tcp_serve_start(&second, &tcp, 0, kOurPort, 16, slab, sink_start, nullptr),
			-EADDRINUSE);
	EXPECT_NE(log.Text().find("riptide.tcp: tcp_listen: port 80 already has a listener"),
			std::string::npos)
			<< log.Text();
	EXPECT_EQ(tcp_serve_start(&second, &tcp, 0x0a000001, kOurPort + 1, 16, slab, sink_start,
				  nullptr),
			-EADDRNOTAVAIL);
	EXPECT_NE(log.Text().find("tcp_listen: 10.0.0.1 is not one of the stack's addresses"),
			std::string::npos);
	EXPECT_EQ(tcp_serve_start(&second, &tcp, 0, kOurPort + 1, 16, slab, nullptr, nullptr),
			-EINVAL);
}
