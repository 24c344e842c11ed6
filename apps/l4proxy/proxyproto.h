/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * proxyproto.h - the PROXY protocol (HAProxy's, versions 1 and 2): the
 * header a load balancer puts before a connection's data to say who the
 * client was. l4proxy reads it from clients behind another balancer (a
 * listener's accept_proxy, from its trusted_sources only) and writes it to
 * backends (a pool's proxy_protocol = v1 or v2; v2 with a unique ID TLV).
 * Pure functions on buffers: tested without a network.
 */
#ifndef RIPTIDE_L4PROXY_PROXYPROTO_H
#define RIPTIDE_L4PROXY_PROXYPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PP_V1_MAX 107 /**< the longest v1 line, "\r\n" included (the spec's) */
#define PP_V2_HEAD 16 /**< signature, version and command, family, length */
#define PP_V2_MAX_BODY 216 /**< the most l4proxy reads after the 16 bytes */
#define PP_MAX (PP_V2_HEAD + PP_V2_MAX_BODY)
#define PP_TLV_UNIQUE_ID 0x05
#define PP_UNIQUE_ID_MAX 128
#define PP_TRUST_MAX 8

/** What a header says. */
struct pp_addr {
	bool local; /**< no usable address (v2 LOCAL, UNKNOWN, IPv6, UNIX): keep the connection's */
	uint32_t src_ip, dst_ip; /**< host order */
	uint16_t src_port, dst_port;
	uint8_t unique_id_len; /**< a v2 PP2_TYPE_UNIQUE_ID TLV's, 0 if none */
	uint8_t unique_id[PP_UNIQUE_ID_MAX];
};

/** The first 6 bytes of a connection: 1 a v1 header ("PROXY "), 2 the start of a
 * v2 signature, 0 neither. */
int pp_detect(const uint8_t b[6]);

/** A whole v1 line (up to and including "\r\n", len bytes). @return 0 or -EINVAL. */
int pp_v1_parse(const char *line, size_t len, struct pp_addr *out);

/** From a v2 header's first 16 bytes: its whole length (16 + body), or
 * -EINVAL (bad signature, version or command), -EMSGSIZE (body over
 * PP_V2_MAX_BODY). */
int pp_v2_length(const uint8_t head[PP_V2_HEAD]);

/** A whole v2 header (len bytes, as pp_v2_length() said). @return 0 or -EINVAL. */
int pp_v2_parse(const uint8_t *b, size_t len, struct pp_addr *out);

/** Write a v1 line for a (TCP4). @return its length (at most PP_V1_MAX), or 0 if cap is short. */
size_t pp_v1_build(char *out, size_t cap, const struct pp_addr *a);

/** Write a v2 header for a (PROXY, TCP over IPv4), with a unique ID TLV if
 * id_len > 0. @return its length, or 0 if cap is short. */
size_t pp_v2_build(uint8_t *out, size_t cap, const struct pp_addr *a, const uint8_t *id,
		size_t id_len);

/** Sources allowed to send a header: up to PP_TRUST_MAX networks; none: any. */
struct pp_trust {
	uint32_t n;
	uint32_t net[PP_TRUST_MAX], mask[PP_TRUST_MAX];
};

/** "A.B.C.D[/P][, ...]" into t. @return 0, or -EINVAL (err says which part),
 * -E2BIG (more than PP_TRUST_MAX). */
int pp_trust_parse(const char *list, struct pp_trust *t, char *err, size_t errlen);
bool pp_trusted(const struct pp_trust *t, uint32_t ip);
/** t as pp_trust_parse() reads it back ("" for none). */
void pp_trust_format(const struct pp_trust *t, char *out, size_t len);

#ifdef __cplusplus
}
#endif

#endif
