// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for tcpstack/tcp_isn.c: SipHash-2-4 against the reference
// vectors of its paper, and RFC 6528 ISN properties.
#include <cstdint>

#include <gtest/gtest.h>

#include "tcp_isn.h"

namespace
{
const uint8_t kKey[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
}

TEST(SipHash, ReferenceVectors)
{
	uint8_t msg[15];
	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	EXPECT_EQ(tcp_siphash24(kKey, msg, 0), UINT64_C(0x726fdb47dd0e0e31));
	EXPECT_EQ(tcp_siphash24(kKey, msg, 15), UINT64_C(0xa129ca6149be45e5));
}

TEST(TcpIsn, SameTupleSameTime_Same_OtherTupleOrKeyDiffers)
{
	uint32_t a = tcp_isn(kKey, 0xc6120001, 80, 0xc6120002, 40000, 1000000);
	EXPECT_EQ(a, tcp_isn(kKey, 0xc6120001, 80, 0xc6120002, 40000, 1000000));
	EXPECT_NE(a, tcp_isn(kKey, 0xc6120001, 80, 0xc6120002, 40001, 1000000));
	EXPECT_NE(a, tcp_isn(kKey, 0xc6120001, 81, 0xc6120002, 40000, 1000000));
	uint8_t other[16] = { 1 };
	EXPECT_NE(a, tcp_isn(other, 0xc6120001, 80, 0xc6120002, 40000, 1000000));
}

TEST(TcpIsn, AdvancesOnePer4Microseconds)
{
	uint32_t t0 = tcp_isn(kKey, 1, 2, 3, 4, 0);
	EXPECT_EQ(tcp_isn(kKey, 1, 2, 3, 4, 4000) - t0, 1u);
	EXPECT_EQ(tcp_isn(kKey, 1, 2, 3, 4, 1000000000) - t0, 250000u) << "250,000 per second";
}
