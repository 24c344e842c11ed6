/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * proxyproto.c - PROXY protocol v1 and v2 headers, read and written (the
 * format: HAProxy's proxy-protocol.txt). Strict: a header that is not
 * exactly the format is refused, never guessed at.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ipv4_addr.h"
#include "proxyproto.h"

static const uint8_t v2_sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49,
	0x54, 0x0a };

int
pp_detect(const uint8_t b[6])
{
	if (memcmp(b, "PROXY ", 6) == 0)
		return 1;
	if (memcmp(b, v2_sig, 6) == 0)
		return 2;
	return 0;
}

/* ---- v1: "PROXY TCP4 SRC DST SPORT DPORT\r\n" ---- */

int
pp_v1_parse(const char *line, size_t len, struct pp_addr *out)
{
	char buf[PP_V1_MAX + 1], *f[6], *save = NULL, *tok;
	unsigned int n = 0;

	memset(out, 0, sizeof(*out));
	if (len < 8 || len > PP_V1_MAX || line[len - 2] != '\r' || line[len - 1] != '\n' ||
			memchr(line, '\0', len) != NULL)
		return -EINVAL;
	memcpy(buf, line, len - 2);
	buf[len - 2] = '\0';
	if (memchr(buf, '\r', len - 2) != NULL || memchr(buf, '\n', len - 2) != NULL)
		return -EINVAL;
	/* Single spaces between fields: strtok would take runs of them. */
	if (strstr(buf, "  ") != NULL || buf[len - 3] == ' ')
		return -EINVAL;
	for (tok = strtok_r(buf, " ", &save); tok != NULL; tok = strtok_r(NULL, " ", &save)) {
		if (n == 6)
			return -EINVAL;
		f[n++] = tok;
	}
	if (n < 2 || strcmp(f[0], "PROXY") != 0)
		return -EINVAL;
	if (strcmp(f[1], "UNKNOWN") == 0) { /* whatever follows is ignored */
		out->local = true;
		return 0;
	}
	if (n != 6)
		return -EINVAL;
	if (strcmp(f[1], "TCP6") == 0) { /* no IPv6 here: the connection's own address */
		out->local = true;
		return 0;
	}
	if (strcmp(f[1], "TCP4") != 0 || ipv4_parse_addr(f[2], &out->src_ip) != 0 ||
			ipv4_parse_addr(f[3], &out->dst_ip) != 0 ||
			ipv4_parse_port(f[4], &out->src_port) != 0 ||
			ipv4_parse_port(f[5], &out->dst_port) != 0) {
		memset(out, 0, sizeof(*out));
		return -EINVAL;
	}
	return 0;
}

size_t
pp_v1_build(char *out, size_t cap, const struct pp_addr *a)
{
	int n = snprintf(out, cap, "PROXY TCP4 %u.%u.%u.%u %u.%u.%u.%u %u %u\r\n", a->src_ip >> 24,
			(a->src_ip >> 16) & 255, (a->src_ip >> 8) & 255, a->src_ip & 255,
			a->dst_ip >> 24, (a->dst_ip >> 16) & 255, (a->dst_ip >> 8) & 255,
			a->dst_ip & 255, a->src_port, a->dst_port);

	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* ---- v2: binary ---- */

int
pp_v2_length(const uint8_t head[PP_V2_HEAD])
{
	uint16_t body = (uint16_t)(head[14] << 8 | head[15]);

	if (memcmp(head, v2_sig, sizeof(v2_sig)) != 0 || (head[12] >> 4) != 2 ||
			(head[12] & 0x0f) > 1)
		return -EINVAL;
	if (body > PP_V2_MAX_BODY)
		return -EMSGSIZE;
	return PP_V2_HEAD + body;
}

static uint32_t
be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

int
pp_v2_parse(const uint8_t *b, size_t len, struct pp_addr *out)
{
	int total = pp_v2_length(b);
	size_t off;

	memset(out, 0, sizeof(*out));
	if (total < 0 || (size_t)total != len)
		return -EINVAL;
	if ((b[12] & 0x0f) == 0 || b[13] != 0x11) {
		/* LOCAL (the balancer's own check), or a family without an IPv4
		 * TCP address: the connection's own addresses stand. */
		out->local = true;
		off = len; /* its TLVs are not read */
	} else {
		if (len < PP_V2_HEAD + 12)
			return -EINVAL;
		out->src_ip = be32(b + 16);
		out->dst_ip = be32(b + 20);
		out->src_port = (uint16_t)(b[24] << 8 | b[25]);
		out->dst_port = (uint16_t)(b[26] << 8 | b[27]);
		off = PP_V2_HEAD + 12;
	}
	/* TLVs: type, length (2 bytes), value; each must fit. */
	while (off < len) {
		uint16_t tl;

		if (len - off < 3)
			return -EINVAL;
		tl = (uint16_t)(b[off + 1] << 8 | b[off + 2]);
		if (len - off - 3 < tl)
			return -EINVAL;
		if (b[off] == PP_TLV_UNIQUE_ID && tl <= PP_UNIQUE_ID_MAX) {
			memcpy(out->unique_id, b + off + 3, tl);
			out->unique_id_len = (uint8_t)tl;
		}
		off += 3u + tl;
	}
	return 0;
}

size_t
pp_v2_build(uint8_t *out, size_t cap, const struct pp_addr *a, const uint8_t *id, size_t id_len)
{
	size_t body = 12 + (id_len > 0 ? 3 + id_len : 0);
	uint8_t *p = out + PP_V2_HEAD;

	if (id_len > PP_UNIQUE_ID_MAX || cap < PP_V2_HEAD + body)
		return 0;
	memcpy(out, v2_sig, sizeof(v2_sig));
	out[12] = 0x21; /* version 2, PROXY */
	out[13] = 0x11; /* TCP over IPv4 */
	out[14] = (uint8_t)(body >> 8);
	out[15] = (uint8_t)body;
	*p++ = (uint8_t)(a->src_ip >> 24);
	*p++ = (uint8_t)(a->src_ip >> 16);
	*p++ = (uint8_t)(a->src_ip >> 8);
	*p++ = (uint8_t)a->src_ip;
	*p++ = (uint8_t)(a->dst_ip >> 24);
	*p++ = (uint8_t)(a->dst_ip >> 16);
	*p++ = (uint8_t)(a->dst_ip >> 8);
	*p++ = (uint8_t)a->dst_ip;
	*p++ = (uint8_t)(a->src_port >> 8);
	*p++ = (uint8_t)a->src_port;
	*p++ = (uint8_t)(a->dst_port >> 8);
	*p++ = (uint8_t)a->dst_port;
	if (id_len > 0) {
		*p++ = PP_TLV_UNIQUE_ID;
		*p++ = (uint8_t)(id_len >> 8);
		*p++ = (uint8_t)id_len;
		memcpy(p, id, id_len);
	}
	return PP_V2_HEAD + body;
}

/* ---- trusted sources ---- */

int
pp_trust_parse(const char *list, struct pp_trust *t, char *err, size_t errlen)
{
	char buf[512], *save = NULL, *tok;

	memset(t, 0, sizeof(*t));
	if (snprintf(buf, sizeof(buf), "%s", list) >= (int)sizeof(buf)) {
		snprintf(err, errlen, "the list is too long");
		return -E2BIG;
	}
	for (tok = strtok_r(buf, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
		uint32_t ip;
		uint8_t plen = 32;

		if (t->n == PP_TRUST_MAX) {
			snprintf(err, errlen, "more than %d networks", PP_TRUST_MAX);
			return -E2BIG;
		}
		if ((strchr(tok, '/') != NULL ? ipv4_parse_cidr(tok, &ip, &plen)
					      : ipv4_parse_addr(tok, &ip)) != 0) {
			snprintf(err, errlen, "'%.40s' is not ADDR or ADDR/PREFIX", tok);
			return -EINVAL;
		}
		t->mask[t->n] = plen == 0 ? 0 : UINT32_MAX << (32 - plen);
		t->net[t->n] = ip & t->mask[t->n];
		t->n++;
	}
	return 0;
}

bool
pp_trusted(const struct pp_trust *t, uint32_t ip)
{
	uint32_t i;

	if (t->n == 0)
		return true;
	for (i = 0; i < t->n; i++)
		if ((ip & t->mask[i]) == t->net[i])
			return true;
	return false;
}

void
pp_trust_format(const struct pp_trust *t, char *out, size_t len)
{
	size_t o = 0;
	uint32_t i;

	out[0] = '\0';
	for (i = 0; i < t->n && o < len; i++) {
		uint32_t m = t->mask[i], plen = 0;

		while (plen < 32 && (m & (UINT32_C(1) << (31 - plen))) != 0)
			plen++;
		o += (size_t)snprintf(out + o, len - o, "%s%u.%u.%u.%u/%u", i > 0 ? ", " : "",
				t->net[i] >> 24, (t->net[i] >> 16) & 255, (t->net[i] >> 8) & 255,
				t->net[i] & 255, plen);
	}
}
