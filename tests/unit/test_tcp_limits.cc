// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for the stack-wide budget of ACKs that answer invalid segments
// (tcpstack/tcp_input.c, oow_stack_budget; RFC 5961 7): beside one per 500 ms
// per connection, the stack answers at most its budget per second, drawn
// at random between half and one and a half times cfg.oow_acks_per_sec.
#include <vector>

#include "tcp_fixture.h"

namespace
{

class TcpOowBudget : public TcpTest
{
	void Configure(struct tcp_config &c) override
	{
		c.oow_acks_per_sec = 10;
	}
};

TEST_F(TcpOowBudget, ManyConnections_InvalidAcksAnsweredWithinTheStackBudget)
{
	std::vector<peer_conn> cs;
	for (uint16_t i = 0; i < 40; i++) {
		cs.push_back(AcceptFrom((uint16_t)(41000 + i)));
		ASSERT_NE(cs.back().c, nullptr);
	}
	Sent();
	auto spray = [&]() { // an ACK of something never sent, on each
		for (auto &p : cs)
			In(Seg(TCP_FLAG_ACK, p.seq, p.ack + 100000, "", 64240, peer_opts(),
					p.port));
		return Sent().size();
	};
	size_t answered = spray();
	EXPECT_GE(answered, 5u);
	EXPECT_LE(answered, 14u);
	EXPECT_EQ(tcp.stats.oow_acks_stack_limited, 40u - answered);
	Advance(1100 * EX_NS_PER_MS); // a new second, and past each one's 500 ms
	size_t again = spray();
	EXPECT_GE(again, 5u);
	EXPECT_LE(again, 14u);
	// A segment carrying data is always answered (the peer learns where we are).
	In(Seg(TCP_FLAG_ACK, cs[0].seq + 100000, cs[0].ack, "data", 64240, peer_opts(),
			cs[0].port));
	EXPECT_EQ(Sent().size(), 1u);
	for (auto &p : cs)
		tcp_abort(p.c);
	Sent();
}

} // namespace
