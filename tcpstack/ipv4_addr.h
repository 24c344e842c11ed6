/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipv4_addr.h - IPv4 addresses, prefixes and ports from text, strictly: the
 * address by inet_pton() (dotted quad, no leading zeros, nothing else), the
 * numbers as plain decimal digits, and nothing left over. The one parser for
 * every app's flags and config files, so "198.18.0.2/24junk" or "1.2.3.4:80x"
 * is refused everywhere alike.
 *
 * Pure functions, any thread. Addresses come out in host byte order.
 */
#ifndef RIPTIDE_IPV4_ADDR_H
#define RIPTIDE_IPV4_ADDR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Room for "255.255.255.255" and its NUL. */
#define IPV4_ADDR_STRLEN 16

/** "A.B.C.D" to an address. @return 0, or -EINVAL (anything else). */
int ipv4_parse_addr(const char *s, uint32_t *ip);

/**
 * "A.B.C.D/P", P 0..32, to an address and a prefix length.
 * @return 0, or -EINVAL (no '/', a bad address, P out of range or not plain
 *         digits, anything left over).
 */
int ipv4_parse_cidr(const char *s, uint32_t *ip, uint8_t *prefix_len);

/** A port, 1..65535, in plain decimal digits. @return 0, or -EINVAL. */
int ipv4_parse_port(const char *s, uint16_t *port);

/** "A.B.C.D:PORT" (PORT 1..65535). @return 0, or -EINVAL. */
int ipv4_parse_addr_port(const char *s, uint32_t *ip, uint16_t *port);

/** The dotted quad of ip into buf (len >= IPV4_ADDR_STRLEN). @return buf. */
char *ipv4_format(uint32_t ip, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* RIPTIDE_IPV4_ADDR_H */
