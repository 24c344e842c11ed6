// SPDX-License-Identifier: BSD-3-Clause
// Unit tests of the PROXY protocol headers (apps/l4proxy/proxyproto.c)
// against the format of HAProxy's proxy-protocol.txt: what a balancer in
// front of l4proxy sends is read exactly, anything else is refused, and
// what l4proxy writes reads back.
#include <gtest/gtest.h>

#include <string>
#include <vector>

extern "C" {
#include "proxyproto.h"
}

namespace
{

int
V1(const std::string &s, struct pp_addr *a)
{
	return pp_v1_parse(s.data(), s.size(), a);
}

TEST(ProxyProto, V1_Tcp4_Unknown_Tcp6)
{
	struct pp_addr a;

	ASSERT_EQ(V1("PROXY TCP4 198.18.7.7 198.18.100.10 5555 80\r\n", &a), 0);
	EXPECT_FALSE(a.local);
	EXPECT_EQ(a.src_ip, 0xc6120707u);
	EXPECT_EQ(a.dst_ip, 0xc612640au);
	EXPECT_EQ(a.src_port, 5555);
	EXPECT_EQ(a.dst_port, 80);
	ASSERT_EQ(V1("PROXY UNKNOWN\r\n", &a), 0);
	EXPECT_TRUE(a.local);
	ASSERT_EQ(V1("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n", &a), 0);
	EXPECT_TRUE(a.local);
	ASSERT_EQ(V1("PROXY TCP6 ffff::1 ffff::2 1000 80\r\n", &a), 0);
	EXPECT_TRUE(a.local); // no IPv6 here: the connection's own address stands
}

TEST(ProxyProto, V1_AnythingElseRefused)
{
	struct pp_addr a;
	const char *bad[] = {
		"PROXY TCP4 198.18.7.7 198.18.100.10 5555 80\n", // no \r
		"PROXY TCP4 198.18.7.7 198.18.100.10 5555\r\n", // a field short
		"PROXY TCP4 198.18.7.7 198.18.100.10 5555 80 9\r\n", // one too many
		"PROXY TCP4 198.18.7.7  198.18.100.10 5555 80\r\n", // two spaces
		"PROXY TCP4 198.18.7.7 198.18.100.10 5555 80 \r\n", // a trailing space
		"PROXY TCP4 198.18.7.300 198.18.100.10 5555 80\r\n", // not an address
		"PROXY TCP4 198.18.7.7 198.18.100.10 70000 80\r\n", // not a port
		"PROXY TCP4 198.18.7.7 198.18.100.10 -1 80\r\n",
		"PROXY UDP4 198.18.7.7 198.18.100.10 5555 80\r\n",
		"proxy TCP4 198.18.7.7 198.18.100.10 5555 80\r\n",
		"PROXY\r\n",
	};
	for (const char *s : bad)
		EXPECT_EQ(V1(s, &a), -EINVAL) << s;
	std::string longer = "PROXY UNKNOWN " + std::string(100, 'x') + "\r\n";
	EXPECT_EQ(V1(longer, &a), -EINVAL); // over the spec's 107 bytes
	EXPECT_EQ(pp_v1_parse("PROXY UNKNOWN\0\r\n", 16, &a), -EINVAL);
}

TEST(ProxyProto, V2_BuiltWithUniqueId_ReadsBack_AndV1Too)
{
	struct pp_addr a = {}, b;
	uint8_t buf[PP_MAX];
	const uint8_t id[] = "0123456789abcdef01234567";

	a.src_ip = 0xc6120707u;
	a.dst_ip = 0xc612640au;
	a.src_port = 5555;
	a.dst_port = 80;
	size_t n = pp_v2_build(buf, sizeof(buf), &a, id, 24);
	ASSERT_EQ(n, 16u + 12 + 3 + 24);
	EXPECT_EQ(pp_detect(buf), 2);
	ASSERT_EQ(pp_v2_length(buf), (int)n);
	ASSERT_EQ(pp_v2_parse(buf, n, &b), 0);
	EXPECT_FALSE(b.local);
	EXPECT_EQ(b.src_ip, a.src_ip);
	EXPECT_EQ(b.dst_ip, a.dst_ip);
	EXPECT_EQ(b.src_port, 5555);
	EXPECT_EQ(b.dst_port, 80);
	ASSERT_EQ(b.unique_id_len, 24);
	EXPECT_EQ(memcmp(b.unique_id, id, 24), 0);
	EXPECT_EQ(pp_v2_build(buf, 30, &a, id, 24), 0u); // too small: nothing
	EXPECT_EQ(pp_v2_build(buf, sizeof(buf), &a, NULL, 0), 28u);

	char line[PP_V1_MAX + 1];
	n = pp_v1_build(line, sizeof(line), &a);
	EXPECT_EQ(std::string(line, n), "PROXY TCP4 198.18.7.7 198.18.100.10 5555 80\r\n");
	EXPECT_EQ(pp_detect((const uint8_t *)line), 1);
	ASSERT_EQ(pp_v1_parse(line, n, &b), 0);
	EXPECT_EQ(b.src_port, 5555);
}

TEST(ProxyProto, V2_LocalAndOtherFamilies_KeepTheConnectionsAddress_BadOnesRefused)
{
	struct pp_addr a = {}, b;
	uint8_t buf[PP_MAX];
	size_t n = pp_v2_build(buf, sizeof(buf), &a, NULL, 0);

	buf[12] = 0x20; // LOCAL
	ASSERT_EQ(pp_v2_parse(buf, n, &b), 0);
	EXPECT_TRUE(b.local);
	buf[12] = 0x21;
	buf[13] = 0x21; // TCP over IPv6
	ASSERT_EQ(pp_v2_parse(buf, n, &b), 0);
	EXPECT_TRUE(b.local);
	buf[13] = 0x11;
	buf[12] = 0x22; // command 2: none such
	EXPECT_EQ(pp_v2_length(buf), -EINVAL);
	buf[12] = 0x11; // version 1 in a v2 signature
	EXPECT_EQ(pp_v2_length(buf), -EINVAL);
	buf[12] = 0x21;
	buf[3] = 0; // the signature
	EXPECT_EQ(pp_v2_length(buf), -EINVAL);
	buf[3] = 0x0a;
	buf[14] = 0x01; // a body of 256 + 12 bytes: over what l4proxy reads
	EXPECT_EQ(pp_v2_length(buf), -EMSGSIZE);
	buf[14] = 0;
	buf[15] = 8; // TCP4 needs 12 bytes of addresses
	EXPECT_EQ(pp_v2_parse(buf, 24, &b), -EINVAL);
	// A TLV whose header is cut short, and one whose value runs past the end.
	n = pp_v2_build(buf, sizeof(buf), &a, (const uint8_t *)"id", 2);
	buf[15] += 1;
	buf[n] = 0x05;
	EXPECT_EQ(pp_v2_parse(buf, n + 1, &b), -EINVAL);
	n = pp_v2_build(buf, sizeof(buf), &a, (const uint8_t *)"id", 2);
	ASSERT_EQ(buf[28], PP_TLV_UNIQUE_ID);
	buf[30] = 10; // says 10 bytes, 2 follow
	EXPECT_EQ(pp_v2_parse(buf, n, &b), -EINVAL);
}

TEST(ProxyProto, TrustedSources)
{
	struct pp_trust t;
	char err[128], out[256];

	ASSERT_EQ(pp_trust_parse("", &t, err, sizeof(err)), 0);
	EXPECT_TRUE(pp_trusted(&t, 0x01020304u)); // none listed: any
	ASSERT_EQ(pp_trust_parse("198.18.0.0/24, 198.18.5.5", &t, err, sizeof(err)), 0);
	EXPECT_TRUE(pp_trusted(&t, 0xc61200feu));
	EXPECT_TRUE(pp_trusted(&t, 0xc6120505u));
	EXPECT_FALSE(pp_trusted(&t, 0xc6120101u));
	EXPECT_FALSE(pp_trusted(&t, 0xc6120506u));
	pp_trust_format(&t, out, sizeof(out));
	EXPECT_STREQ(out, "198.18.0.0/24, 198.18.5.5/32");
	EXPECT_EQ(pp_trust_parse("198.18.0.0/33", &t, err, sizeof(err)), -EINVAL);
	EXPECT_STREQ(err, "'198.18.0.0/33' is not ADDR or ADDR/PREFIX");
	EXPECT_EQ(pp_trust_parse("1.1.1.1 2.2.2.2 3.3.3.3 4.4.4.4 5.5.5.5 6.6.6.6 7.7.7.7 8.8.8.8 "
				 "9.9.9.9",
				  &t, err, sizeof(err)),
			-E2BIG);
}

} // namespace
