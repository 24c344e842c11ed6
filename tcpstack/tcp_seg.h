/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_seg.h - TCP sequence arithmetic, segment and option parsing, option
 * building. The first pieces of the TCP layer (issue 6): pure functions,
 * no state, callable from any lcore.
 *
 * Sequence numbers compare modulo 2^32 (RFC 9293 §3.4): a < b when
 * (int32_t)(a - b) < 0, valid while the two are less than 2^31 apart.
 *
 * Parsing checks lengths before reading fields and never trusts a length
 * from the wire: a malformed header or option list is an error the caller
 * counts and drops.
 */
#ifndef RIPTIDE_TCP_SEG_H
#define RIPTIDE_TCP_SEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

static inline bool
tcp_seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool
tcp_seq_leq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

static inline bool
tcp_seq_gt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static inline bool
tcp_seq_geq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) >= 0;
}

/** lo <= a < hi, modulo 2^32 (an empty window when lo == hi). */
static inline bool
tcp_seq_in(uint32_t a, uint32_t lo, uint32_t hi)
{
	return a - lo < hi - lo;
}

/** TCP header flags. */
enum tcp_flag {
	TCP_FLAG_FIN = 0x01,
	TCP_FLAG_SYN = 0x02,
	TCP_FLAG_RST = 0x04,
	TCP_FLAG_PSH = 0x08,
	TCP_FLAG_ACK = 0x10,
	TCP_FLAG_URG = 0x20,
};

#define TCP_SACK_MAX 4
#define TCP_WSCALE_MAX 14 /* RFC 7323 §2.3 */
#define TCP_OPTS_MAX_LEN 40

/** Options of one segment. */
struct tcp_opts {
	bool has_mss;
	bool has_wscale;
	bool sack_permitted;
	bool has_ts;
	uint16_t mss;
	uint8_t wscale; /**< clamped to TCP_WSCALE_MAX */
	uint8_t nsack;
	uint32_t tsval, tsecr;
	struct {
		uint32_t left, right;
	} sack[TCP_SACK_MAX];
};

/** A parsed segment: host byte order, lengths checked. */
struct tcp_seg {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags; /**< enum tcp_flag bits */
	uint16_t wnd; /**< as sent, not yet scaled */
	uint16_t hlen; /**< header length with options */
	uint32_t len; /**< payload bytes */
	struct tcp_opts opts;
};

/** Why a header did not parse. */
enum tcp_parse_error {
	TCP_PARSE_OK = 0,
	TCP_PARSE_TRUNCATED, /**< shorter than 20 bytes or than its data offset */
	TCP_PARSE_OFFSET, /**< data offset below 5 words */
	TCP_PARSE_OPTION, /**< an option's length is impossible */
};

/**
 * Parse a TCP header and its options from len bytes at hdr (the TCP header
 * and payload, network byte order).
 * @return TCP_PARSE_OK, or the reason it was rejected.
 */
enum tcp_parse_error tcp_seg_parse(const void *hdr, uint32_t len, struct tcp_seg *seg);

/**
 * Parse an option list of len bytes. Unknown options are skipped by their
 * length; a window scale above 14 is used as 14 (RFC 7323 §2.3).
 * @return 0, or -EINVAL for an impossible length.
 */
int tcp_opts_parse(const uint8_t *p, uint32_t len, struct tcp_opts *opts);

/**
 * Write the options that are set into out (at least TCP_OPTS_MAX_LEN
 * bytes), padded with NOPs to a multiple of 4 as most stacks lay them.
 * @return bytes written (a multiple of 4, at most 40), or -EMSGSIZE if they
 *         do not fit in 40 bytes.
 */
int tcp_opts_build(const struct tcp_opts *opts, uint8_t *out);

#ifdef __cplusplus
}
#endif

#endif /* RIPTIDE_TCP_SEG_H */
