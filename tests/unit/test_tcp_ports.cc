// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for TCP's ephemeral ports (tcpstack/tcp_conn.c, RFC 6056
// algorithm 4) and its secrets (getrandom, review L10): connections to one
// destination take ports that follow each other; the keys are random.
#include <set>
#include <thread>

#include "dp_rss.h"
#include "dp_steer.h"
#include "tcp_fixture.h"

namespace
{

class TcpPorts : public TcpTest
{
      protected:
	// The source port of a SYN to (kPeerIp, rport); the attempt is dropped.
	uint16_t SynPort(uint16_t rport)
	{
		struct tcp_connect k;
		tcp_connect_init(&k, &tcp, kPeerIp, rport);
		EXPECT_EQ(ex_future_poll(&k.base, &cx), EX_PENDING);
		out_seg syn = One();
		EXPECT_EQ(syn.seg.flags, TCP_FLAG_SYN);
		ex_future_drop(&k.base);
		Sent();
		return syn.seg.sport;
	}
};

TEST_F(TcpPorts, SameDestination_PortsFollowEachOther_InTheRange)
{
	uint16_t a = SynPort(8080), b = SynPort(8080), c = SynPort(8080);
	for (uint16_t p : { a, b, c }) {
		EXPECT_GE(p, 32768);
		EXPECT_LE(p, 60999);
	}
	// The destination's counter moves one per port tried (wrapping at the
	// top of the range).
	EXPECT_EQ(b, a == 60999 ? 32768 : a + 1);
	EXPECT_EQ(c, b == 60999 ? 32768 : b + 1);
}

// An lcore of a steering group (or of a NIC with RSS) opens connections from
// local ports whose replies come back to it: the reply's 4-tuple, hashed as
// the group steers, lands on the lcore's queue. Without it half the replies
// of two lcores would need another hop.
TEST_F(TcpPorts, SteeringGroup_ActiveOpensPickPortsWhoseRepliesComeBack)
{
	struct dp_port view;

	dp_steer_port_view(&view, 2);
	tcp.cfg.rss_port = &view;
	for (uint16_t self : { 0, 1 }) {
		tcp.cfg.rss_queue = self;
		for (int i = 0; i < 20; i++) {
			uint16_t p = SynPort(8080);
			EXPECT_EQ(dp_rss_queue(&view, kPeerIp, kOurIp, 8080, p), self)
					<< "port " << p << " for lcore " << self;
		}
	}
	tcp.cfg.rss_port = nullptr;
}

TEST_F(TcpPorts, Keys_FromTheKernelCsprng_NotZeroNotEqual)
{
	std::set<uint8_t> isn(tcp.isn_key, tcp.isn_key + 16), port(tcp.port_key, tcp.port_key + 16);
	EXPECT_GT(isn.size(), 4u); // 16 random bytes are not a handful of values
	EXPECT_GT(port.size(), 4u);
	EXPECT_NE(std::memcmp(tcp.isn_key, tcp.port_key, 16), 0);
}

} // namespace

#ifndef RT_NDEBUG
// Shared nothing, checked: another thread (here a non-EAL one, lcore -1)
// that touches a stack's listeners or connections aborts in a debug build,
// naming both lcores, instead of racing the owner.
static void
listen_from_another_thread(struct tcp_stack *tcp)
{
	std::thread t([tcp] {
		struct tcp_listener l;
		tcp_listen(&l, tcp, 0, 9999, 4);
	});
	t.join();
}

TEST_F(TcpPorts, OwnerCheck_AnotherLcoreListening_Aborts)
{
	GTEST_FLAG_SET(death_test_style, "threadsafe");
	EXPECT_DEATH(listen_from_another_thread(&tcp),
			"tcp_listen on lcore -1: this stack is lcore 0's");
	struct tcp_listener l; // its own lcore: fine
	ASSERT_EQ(tcp_listen(&l, &tcp, 0, 9999, 4), 0);
	tcp_listener_close(&l);
}
#endif
