/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipv4_addr.c - the strict parsers of ipv4_addr.h. Any thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ipv4_addr.h"

/* Plain decimal digits (no sign, space or base prefix), at most max. */
static int
parse_uint(const char *s, size_t len, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 10)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* The first len bytes of s as an address. */
static int
parse_addr_n(const char *s, size_t len, uint32_t *ip)
{
	char buf[IPV4_ADDR_STRLEN];
	struct in_addr a;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	*ip = ntohl(a.s_addr);
	return 0;
}

int
ipv4_parse_addr(const char *s, uint32_t *ip)
{
	if (s == NULL || ip == NULL)
		return -EINVAL;
	return parse_addr_n(s, strlen(s), ip);
}

int
ipv4_parse_cidr(const char *s, uint32_t *ip, uint8_t *prefix_len)
{
	const char *slash;
	uint32_t a, p;

	if (s == NULL || ip == NULL || prefix_len == NULL || (slash = strchr(s, '/')) == NULL)
		return -EINVAL;
	if (parse_addr_n(s, (size_t)(slash - s), &a) != 0 ||
			parse_uint(slash + 1, strlen(slash + 1), 32, &p) != 0)
		return -EINVAL;
	*ip = a;
	*prefix_len = (uint8_t)p;
	return 0;
}

int
ipv4_parse_port(const char *s, uint16_t *port)
{
	uint32_t p;

	if (s == NULL || port == NULL || parse_uint(s, strlen(s), 65535, &p) != 0 || p == 0)
		return -EINVAL;
	*port = (uint16_t)p;
	return 0;
}

int
ipv4_parse_addr_port(const char *s, uint32_t *ip, uint16_t *port)
{
	const char *colon;
	uint32_t a;
	uint16_t p;

	if (s == NULL || ip == NULL || port == NULL || (colon = strchr(s, ':')) == NULL)
		return -EINVAL;
	if (parse_addr_n(s, (size_t)(colon - s), &a) != 0 || ipv4_parse_port(colon + 1, &p) != 0)
		return -EINVAL;
	*ip = a;
	*port = p;
	return 0;
}

char *
ipv4_format(uint32_t ip, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
	return buf;
}
