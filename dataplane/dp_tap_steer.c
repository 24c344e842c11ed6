/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_tap_steer.c - a multi-queue net_tap whose queues the kernel fills by
 * riptide's own flow hash, so that each lcore's queue holds its own flows.
 *
 * Linux's tun driver picks the queue of each frame it hands a TAP's reader.
 * By default it hashes the flow with its own key (a per-boot siphash) and
 * remembers the queue a flow was last *written* on: for the proxy's backend
 * connections, which a lane opens, that follows the lane; a client's SYN
 * lands on whichever queue the kernel's hash names, and once the table's
 * 4,096 flows are in use (three seconds of connections in close mode) no new
 * flow is learned at all. Software steering (dp_steer.h) then hands about
 * half of all packets to the other lane: scale.sh's close run, two lanes,
 * moved 40 % of them, each hand-over a ring enqueue and, as often as not,
 * a wake-up of a sleeping lane.
 *
 * The tun driver takes a steering program instead (TUNSETSTEERINGEBPF): an
 * eBPF socket filter whose return value, modulo the number of queues, is
 * the queue. The one built here returns the low 7 bits of riptide's
 * symmetric Toeplitz hash of the IPv4 TCP or UDP 4-tuple (0 for anything
 * else), so queue = (hash % 128) % n: exactly dp_steer_owner(), the owner
 * that the steering stage and TCP's port choice (tcp_config.rss_port) use.
 * The port then counts as one with RSS (a 128-entry table i % n): the
 * steering stage finds nothing to move but ARP, as on a NIC.
 *
 * Why the program is short: the key repeats 0x6d5a (16 bits), so the
 * Toeplitz window of input bit i depends on i % 16 alone, and the hash of
 * the six 16-bit words of (src, dst, sport, dport) is the hash of their XOR.
 * The program folds the tuple into one 16-bit word and XORs, for each of
 * its 16 bits that is set, that bit's share of the hash, computed here with
 * dp_rss_hash_ipv4() itself (the hash is linear in its input bits).
 *
 * Packet bytes are read relative to the frame's link-layer header
 * (SKF_LL_OFF), which is where the tun driver's transmit path and the
 * kernel's test runner (BPF_PROG_TEST_RUN) both set it. A frame too short
 * for a read ends the program with 0: member 0, as dp_steer_owner() says of
 * a runt. RIPTIDE_TAP_STEER=0 in the environment leaves the kernel's own
 * choice (for A/B measurements).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <rte_ethdev.h>

#include "dp_port.h"
#include "dp_priv.h"
#include "dp_rss.h"
#include "dp_steer.h"

/* The redirection table the program stands for: hash % 128, then the tun
 * driver's own % n (dp_steer_owner's 128 entries filled i % n). */
#define TAP_STEER_RETA 128

/* The frame's offsets (Ethernet, then IPv4). */
enum {
	OFF_ETHERTYPE = 12,
	OFF_IP = 14,
	OFF_IP_FRAG = OFF_IP + 6,
	OFF_IP_PROTO = OFF_IP + 9,
	OFF_IP_SRC = OFF_IP + 12,
	OFF_IP_DST = OFF_IP + 16,
};

struct prog {
	struct bpf_insn insn[DP_TAP_STEER_MAX_INSNS];
	unsigned int n;
	unsigned int to_zero[16]; /* jumps to the "return 0" tail */
	unsigned int nzero;
};

static void
emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	struct bpf_insn *i = &p->insn[p->n++];

	memset(i, 0, sizeof(*i));
	i->code = code;
	i->dst_reg = dst & 0xf;
	i->src_reg = src & 0xf;
	i->off = off;
	i->imm = imm;
}

/* r0 = the 8 or 16 bits at the frame's offset off (network order read as a
 * number), from its link-layer header; r1-r5 are clobbered. */
static void
load_abs(struct prog *p, uint8_t size, int32_t off)
{
	emit(p, BPF_LD | BPF_ABS | size, 0, 0, 0, SKF_LL_OFF + off);
}

/* if (r<dst> op imm) return 0; */
static void
zero_if(struct prog *p, uint8_t op, uint8_t dst, int32_t imm)
{
	p->to_zero[p->nzero++] = p->n;
	emit(p, BPF_JMP | op | BPF_K, dst, 0, 0, imm);
}

int
dp_tap_steer_build(struct bpf_insn *out, unsigned int max)
{
	struct prog p;
	unsigned int k;

	memset(&p, 0, sizeof(p));
	emit(&p, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0); /* r6 = skb */
	load_abs(&p, BPF_H, OFF_ETHERTYPE);
	zero_if(&p, BPF_JNE, BPF_REG_0, 0x0800);
	load_abs(&p, BPF_B, OFF_IP); /* version and header length */
	emit(&p, BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_0, 0, 0, 0x0f);
	emit(&p, BPF_ALU64 | BPF_LSH | BPF_K, BPF_REG_0, 0, 0, 2);
	zero_if(&p, BPF_JLT, BPF_REG_0, 20);
	emit(&p, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_7, BPF_REG_0, 0, 0); /* r7 = ihl */
	load_abs(&p, BPF_B, OFF_IP_PROTO);
	emit(&p, BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 1, 6); /* TCP: on */
	zero_if(&p, BPF_JNE, BPF_REG_0, 17); /* not UDP either */
	load_abs(&p, BPF_H, OFF_IP_FRAG);
	emit(&p, BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_0, 0, 0, 0x3fff); /* MF, offset */
	zero_if(&p, BPF_JNE, BPF_REG_0, 0); /* a fragment: member 0's */
	/* r8 = the XOR of the tuple's six 16-bit words */
	load_abs(&p, BPF_H, OFF_IP_SRC);
	emit(&p, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_8, BPF_REG_0, 0, 0);
	load_abs(&p, BPF_H, OFF_IP_SRC + 2);
	emit(&p, BPF_ALU64 | BPF_XOR | BPF_X, BPF_REG_8, BPF_REG_0, 0, 0);
	load_abs(&p, BPF_H, OFF_IP_DST);
	emit(&p, BPF_ALU64 | BPF_XOR | BPF_X, BPF_REG_8, BPF_REG_0, 0, 0);
	load_abs(&p, BPF_H, OFF_IP_DST + 2);
	emit(&p, BPF_ALU64 | BPF_XOR | BPF_X, BPF_REG_8, BPF_REG_0, 0, 0);
	/* the ports, after the IP header's ihl bytes (r7) */
	emit(&p, BPF_LD | BPF_IND | BPF_H, 0, BPF_REG_7, 0, SKF_LL_OFF + OFF_IP);
	emit(&p, BPF_ALU64 | BPF_XOR | BPF_X, BPF_REG_8, BPF_REG_0, 0, 0);
	emit(&p, BPF_LD | BPF_IND | BPF_H, 0, BPF_REG_7, 0, SKF_LL_OFF + OFF_IP + 2);
	emit(&p, BPF_ALU64 | BPF_XOR | BPF_X, BPF_REG_8, BPF_REG_0, 0, 0);
	/* r0 = XOR of each set bit's share of the hash, low 7 bits */
	emit(&p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
	for (k = 0; k < 16; k++) {
		uint32_t share = dp_rss_hash_ipv4(0, 0, 0, (uint16_t)(1u << k)) % TAP_STEER_RETA;

		if (share == 0)
			continue;
		emit(&p, BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_8, 0, 0);
		emit(&p, BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_1, 0, 0, (int32_t)(1u << k));
		emit(&p, BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_1, 0, 1, 0);
		emit(&p, BPF_ALU64 | BPF_XOR | BPF_K, BPF_REG_0, 0, 0, (int32_t)share);
	}
	emit(&p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	/* the tail: return 0 */
	for (k = 0; k < p.nzero; k++)
		p.insn[p.to_zero[k]].off = (int16_t)(p.n - p.to_zero[k] - 1);
	emit(&p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
	emit(&p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	if (p.n > max)
		return -ENOSPC;
	memcpy(out, p.insn, sizeof(p.insn[0]) * p.n);
	return (int)p.n;
}

int
dp_tap_steer_load(char *log, size_t log_len)
{
	struct bpf_insn insn[DP_TAP_STEER_MAX_INSNS];
	static const char license[] = "BSD";
	union bpf_attr attr;
	int n = dp_tap_steer_build(insn, DP_TAP_STEER_MAX_INSNS), fd;

	if (n < 0)
		return n;
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	attr.insns = (uint64_t)(uintptr_t)insn;
	attr.insn_cnt = (uint32_t)n;
	attr.license = (uint64_t)(uintptr_t)license;
	fd = (int)syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	if (fd >= 0)
		return fd;
	fd = -errno;
	if (log != NULL && log_len > 0) {
		/* Once more for the verifier's word on it (a log that fills up
		 * fails a load of its own, so only when it failed anyway). */
		log[0] = '\0';
		attr.log_buf = (uint64_t)(uintptr_t)log;
		attr.log_size = (uint32_t)log_len;
		attr.log_level = 1;
		(void)syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	}
	return fd;
}

/* A tun fd of the interface named arg. */
static bool
tun_of(int fd, void *arg)
{
	struct ifreq ifr;

	if (!dp_fd_is_tun(fd))
		return false;
	memset(&ifr, 0, sizeof(ifr));
	return ioctl(fd, TUNGETIFF, &ifr) == 0 && strncmp(ifr.ifr_name, arg, IFNAMSIZ) == 0;
}

/* This port's tun interface name and one of its fds; false if not found. */
static bool
port_tun_fd(const struct dp_port *p, char ifname[IF_NAMESIZE], int *fd)
{
	struct rte_eth_dev_info info;

	return rte_eth_dev_info_get(p->port_id, &info) == 0 && info.if_index != 0 &&
	       if_indextoname(info.if_index, ifname) != NULL &&
	       dp_own_fds(tun_of, ifname, fd, 1) == 1;
}

void
dp_tap_unsteer(struct dp_port *p)
{
	char ifname[IF_NAMESIZE];
	int fd, none = -1;

	if (!p->tap_steered)
		return;
	/* A persistent TAP (net_tap's persist) outlives the port: whoever
	 * reads it next gets the kernel's own choice back. */
	if (port_tun_fd(p, ifname, &fd))
		(void)ioctl(fd, TUNSETSTEERINGEBPF, &none);
	p->tap_steered = false;
}

void
dp_tap_steer(struct dp_port *p)
{
	const char *keep = getenv("RIPTIDE_TAP_STEER");
	char ifname[IF_NAMESIZE];
	struct rte_eth_dev_info info;
	int fd, prog, rc;
	uint16_t i;

	p->tap_steered = false;
	if (p->nb_queues < 2 || (keep != NULL && strcmp(keep, "0") == 0))
		return;
	if (rte_eth_dev_info_get(p->port_id, &info) != 0 ||
			strcmp(info.driver_name, "net_tap") != 0)
		return;
	if (!port_tun_fd(p, ifname, &fd)) {
		DP_LOG(WARNING, "port %s: its tun fd not found: the kernel picks its queues",
				p->name);
		return;
	}
	prog = dp_tap_steer_load(NULL, 0);
	if (prog < 0) {
		DP_LOG(WARNING,
				"port %s: the tun steering program did not load (%s): the "
				"kernel picks its queues, software steering moves what lands "
				"on the wrong one",
				p->name, strerror(-prog));
		return;
	}
	/* The tun device holds its own reference to the program. */
	rc = ioctl(fd, TUNSETSTEERINGEBPF, &prog) == 0 ? 0 : -errno;
	close(prog);
	if (rc != 0) {
		DP_LOG(WARNING, "port %s: TUNSETSTEERINGEBPF: %s: the kernel picks its queues",
				p->name, strerror(-rc));
		return;
	}
	p->rss = true;
	p->reta_size = TAP_STEER_RETA;
	for (i = 0; i < TAP_STEER_RETA; i++)
		p->reta[i] = i % p->nb_queues;
	p->tap_steered = true;
	DP_LOG(INFO, "port %s: %s's %u queues filled by riptide's flow hash (tun steering program)",
			p->name, ifname, p->nb_queues);
}
