/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_seg.c - TCP header and option parsing and building. Pure functions;
 * any lcore.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>

#include "tcp_seg.h"

enum tcp_opt_kind {
	TCP_OPT_EOL = 0,
	TCP_OPT_NOP = 1,
	TCP_OPT_MSS = 2,
	TCP_OPT_WSCALE = 3,
	TCP_OPT_SACK_PERMITTED = 4,
	TCP_OPT_SACK = 5,
	TCP_OPT_TIMESTAMP = 8,
};

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t
rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int
tcp_opts_parse(const uint8_t *p, uint32_t len, struct tcp_opts *o)
{
	uint32_t i = 0;

	memset(o, 0, sizeof(*o));
	while (i < len) {
		uint8_t kind = p[i], olen;

		if (kind == TCP_OPT_EOL)
			break;
		if (kind == TCP_OPT_NOP) {
			i++;
			continue;
		}
		/* Every other option has a length byte, counting kind and length. */
		if (i + 1 >= len)
			return -EINVAL;
		olen = p[i + 1];
		if (olen < 2 || i + olen > len)
			return -EINVAL;
		switch (kind) {
		case TCP_OPT_MSS:
			if (olen != 4)
				return -EINVAL;
			o->has_mss = true;
			o->mss = rd16(&p[i + 2]);
			break;
		case TCP_OPT_WSCALE:
			if (olen != 3)
				return -EINVAL;
			o->has_wscale = true;
			/* RFC 7323 §2.3: "If a Window Scale option is received with a
			 * shift.cnt value larger than 14, the TCP ... MUST use 14". */
			o->wscale = p[i + 2] > TCP_WSCALE_MAX ? TCP_WSCALE_MAX : p[i + 2];
			break;
		case TCP_OPT_SACK_PERMITTED:
			if (olen != 2)
				return -EINVAL;
			o->sack_permitted = true;
			break;
		case TCP_OPT_SACK: {
			uint8_t n, k;

			if ((olen - 2) % 8 != 0 || olen == 2)
				return -EINVAL;
			n = (uint8_t)((olen - 2) / 8);
			o->nsack = n > TCP_SACK_MAX ? TCP_SACK_MAX : n;
			for (k = 0; k < o->nsack; k++) {
				o->sack[k].left = rd32(&p[i + 2 + 8 * k]);
				o->sack[k].right = rd32(&p[i + 6 + 8 * k]);
			}
			break;
		}
		case TCP_OPT_TIMESTAMP:
			if (olen != 10)
				return -EINVAL;
			o->has_ts = true;
			o->tsval = rd32(&p[i + 2]);
			o->tsecr = rd32(&p[i + 6]);
			break;
		default:
			break; /* unknown: skipped by its length */
		}
		i += olen;
	}
	return 0;
}

enum tcp_parse_error
tcp_seg_parse(const void *hdr, uint32_t len, struct tcp_seg *s)
{
	const uint8_t *p = hdr;
	uint16_t hlen;

	if (len < 20)
		return TCP_PARSE_TRUNCATED;
	hlen = (uint16_t)((p[12] >> 4) * 4);
	if (hlen < 20)
		return TCP_PARSE_OFFSET;
	if (hlen > len)
		return TCP_PARSE_TRUNCATED;
	s->sport = rd16(&p[0]);
	s->dport = rd16(&p[2]);
	s->seq = rd32(&p[4]);
	s->ack = rd32(&p[8]);
	s->flags = p[13] & 0x3f;
	s->wnd = rd16(&p[14]);
	s->hlen = hlen;
	s->len = len - hlen;
	if (tcp_opts_parse(&p[20], hlen - 20u, &s->opts) != 0)
		return TCP_PARSE_OPTION;
	return TCP_PARSE_OK;
}

int
tcp_opts_build(const struct tcp_opts *o, uint8_t *out)
{
	uint8_t buf[64];
	int n = 0;
	uint8_t k;

	if (o->has_mss) {
		buf[n] = TCP_OPT_MSS;
		buf[n + 1] = 4;
		wr16(&buf[n + 2], o->mss);
		n += 4;
	}
	if (o->sack_permitted) {
		/* NOP NOP SACK-permitted keeps what follows aligned. */
		buf[n++] = TCP_OPT_NOP;
		buf[n++] = TCP_OPT_NOP;
		buf[n++] = TCP_OPT_SACK_PERMITTED;
		buf[n++] = 2;
	}
	if (o->has_ts) {
		buf[n++] = TCP_OPT_NOP;
		buf[n++] = TCP_OPT_NOP;
		buf[n] = TCP_OPT_TIMESTAMP;
		buf[n + 1] = 10;
		wr32(&buf[n + 2], o->tsval);
		wr32(&buf[n + 6], o->tsecr);
		n += 10;
	}
	if (o->has_wscale) {
		buf[n++] = TCP_OPT_NOP;
		buf[n] = TCP_OPT_WSCALE;
		buf[n + 1] = 3;
		buf[n + 2] = o->wscale > TCP_WSCALE_MAX ? TCP_WSCALE_MAX : o->wscale;
		n += 3;
	}
	if (o->nsack != 0) {
		if (n + 2 + 2 + 8 * o->nsack > TCP_OPTS_MAX_LEN || o->nsack > TCP_SACK_MAX)
			return -EMSGSIZE;
		buf[n++] = TCP_OPT_NOP;
		buf[n++] = TCP_OPT_NOP;
		buf[n] = TCP_OPT_SACK;
		buf[n + 1] = (uint8_t)(2 + 8 * o->nsack);
		for (k = 0; k < o->nsack; k++) {
			wr32(&buf[n + 2 + 8 * k], o->sack[k].left);
			wr32(&buf[n + 6 + 8 * k], o->sack[k].right);
		}
		n += 2 + 8 * o->nsack;
	}
	while (n % 4 != 0)
		buf[n++] = TCP_OPT_NOP;
	if (n > TCP_OPTS_MAX_LEN)
		return -EMSGSIZE;
	memcpy(out, buf, (size_t)n);
	return n;
}
