// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for TCP's ephemeral ports (tcpstack/tcp_conn.c, RFC 6056
// algorithm 4) and its secrets (getrandom, review L10): connections to one
// destination take ports that follow each other; the keys are random.
#include <set>

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

TEST_F(TcpPorts, Keys_FromTheKernelCsprng_NotZeroNotEqual)
{
	std::set<uint8_t> isn(tcp.isn_key, tcp.isn_key + 16), port(tcp.port_key, tcp.port_key + 16);
	EXPECT_GT(isn.size(), 4u); // 16 random bytes are not a handful of values
	EXPECT_GT(port.size(), 4u);
	EXPECT_NE(std::memcmp(tcp.isn_key, tcp.port_key, 16), 0);
}

} // namespace
