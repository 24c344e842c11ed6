// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for tcpstack/ipv4_addr.c: the strict address, prefix and port
// parsers every app uses. Whatever is not exactly an address is refused.
#include <cerrno>
#include <gtest/gtest.h>

#include "ipv4_addr.h"

namespace
{

TEST(Ipv4Addr, Addr_DottedQuadOnly)
{
	uint32_t ip = 0;
	EXPECT_EQ(ipv4_parse_addr("198.18.0.2", &ip), 0);
	EXPECT_EQ(ip, 0xc6120002u);
	for (const char *bad : { "", "198.18.0", "198.18.0.2.", "198.18.0.256", "198.18.0.2 ",
			     " 198.18.0.2", "198.18.0.2x", "198.18.0.02", "0x1.2.3.4", "1.2.3.-4",
			     "198.18.0.2/24", "198.18.0.2:80", "localhost" })
		EXPECT_EQ(ipv4_parse_addr(bad, &ip), -EINVAL) << "'" << bad << "'";
}

TEST(Ipv4Addr, Cidr_PrefixZeroTo32_NothingLeftOver)
{
	uint32_t ip = 0;
	uint8_t p = 99;
	EXPECT_EQ(ipv4_parse_cidr("198.18.0.2/24", &ip, &p), 0);
	EXPECT_EQ(ip, 0xc6120002u);
	EXPECT_EQ(p, 24);
	EXPECT_EQ(ipv4_parse_cidr("0.0.0.0/0", &ip, &p), 0);
	EXPECT_EQ(p, 0);
	EXPECT_EQ(ipv4_parse_cidr("198.18.0.2/32", &ip, &p), 0);
	for (const char *bad : { "198.18.0.2", "198.18.0.2/", "198.18.0.2/33", "198.18.0.2/24junk",
			     "198.18.0.2/+24", "198.18.0.2/ 24", "198.18.0.2//24", "/24",
			     "198.18.0/24", "198.18.0.2/4294967320" })
		EXPECT_EQ(ipv4_parse_cidr(bad, &ip, &p), -EINVAL) << "'" << bad << "'";
}

TEST(Ipv4Addr, AddrPort_PortOneTo65535_NothingLeftOver)
{
	uint32_t ip = 0;
	uint16_t port = 0;
	EXPECT_EQ(ipv4_parse_addr_port("1.2.3.4:80", &ip, &port), 0);
	EXPECT_EQ(ip, 0x01020304u);
	EXPECT_EQ(port, 80);
	EXPECT_EQ(ipv4_parse_addr_port("1.2.3.4:65535", &ip, &port), 0);
	for (const char *bad : { "1.2.3.4", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:80x",
			     "1.2.3.4:-80", "1.2.3.4: 80", ":80", "1.2.3:80", "1.2.3.4:80:81" })
		EXPECT_EQ(ipv4_parse_addr_port(bad, &ip, &port), -EINVAL) << "'" << bad << "'";
}

TEST(Ipv4Addr, Port_PlainDigits)
{
	uint16_t port = 0;
	EXPECT_EQ(ipv4_parse_port("7", &port), 0);
	EXPECT_EQ(port, 7);
	for (const char *bad : { "", "0", "65536", "7x", "+7", " 7", "0x10", "99999999999" })
		EXPECT_EQ(ipv4_parse_port(bad, &port), -EINVAL) << "'" << bad << "'";
}

TEST(Ipv4Addr, Format_RoundTrips)
{
	char buf[IPV4_ADDR_STRLEN];
	uint32_t ip = 0;
	EXPECT_STREQ(ipv4_format(0xc6120002u, buf, sizeof(buf)), "198.18.0.2");
	EXPECT_STREQ(ipv4_format(0xffffffffu, buf, sizeof(buf)), "255.255.255.255");
	EXPECT_EQ(ipv4_parse_addr(buf, &ip), 0);
	EXPECT_EQ(ip, 0xffffffffu);
}

} // namespace
