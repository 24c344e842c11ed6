// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for dataplane/dp_steer.c: the owner of a packet (symmetric, the
// same as a NIC's RSS with a default table, member 0 for what has no ports),
// and a two-member group on one test lcore (the rings do not care which
// lcore the members run on): every packet reaches its owner, in order.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "dp_port.h"
#include "dp_rss.h"
#include "dp_steer.h"
#include "dp_stream.h"
#include "ut_helpers.h"

namespace
{

int seq;

std::string
uniq(const char *p)
{
	return std::string(p) + std::to_string(++seq);
}

struct tuple {
	uint32_t src, dst;
	uint16_t sport, dport;
};

class SteerTest : public ExecutorFixture
{
      protected:
	struct rte_mempool *pool = nullptr;
	std::vector<struct rte_ring *> rings;

	void SetUp() override
	{
		ExecutorFixture::SetUp();
		pool = rte_pktmbuf_pool_create(uniq("utsteer").c_str(), 4095, 0, 0,
				RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
		ASSERT_NE(pool, nullptr);
	}

	void TearDown() override
	{
		for (struct rte_ring *r : rings) {
			void *m = nullptr;
			while (rte_ring_dequeue(r, &m) == 0)
				rte_pktmbuf_free(static_cast<struct rte_mbuf *>(m));
			rte_ring_free(r);
		}
		if (pool != nullptr) {
			EXPECT_EQ(rte_mempool_in_use_count(pool), 0u) << "mbufs leaked";
			rte_mempool_free(pool);
		}
		ExecutorFixture::TearDown();
	}

	// Ethernet + IPv4 + UDP (or proto) with tuple t; id in the payload.
	struct rte_mbuf *Pkt(
			const tuple &t, uint32_t id, uint8_t proto = IPPROTO_UDP, uint16_t frag = 0)
	{
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		EXPECT_NE(m, nullptr);
		uint8_t *p = reinterpret_cast<uint8_t *>(rte_pktmbuf_append(m, 64));
		memset(p, 0, 64);
		auto *eh = reinterpret_cast<struct rte_ether_hdr *>(p);
		eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		auto *ip = reinterpret_cast<struct rte_ipv4_hdr *>(eh + 1);
		ip->version_ihl = 0x45;
		ip->next_proto_id = proto;
		ip->fragment_offset = rte_cpu_to_be_16(frag);
		ip->src_addr = rte_cpu_to_be_32(t.src);
		ip->dst_addr = rte_cpu_to_be_32(t.dst);
		auto *uh = reinterpret_cast<struct rte_udp_hdr *>(ip + 1);
		uh->src_port = rte_cpu_to_be_16(t.sport);
		uh->dst_port = rte_cpu_to_be_16(t.dport);
		memcpy(p + 60, &id, 4);
		return m;
	}

	struct rte_ring *Ring()
	{
		struct rte_ring *r = rte_ring_create(uniq("utsr").c_str(), 1024, SOCKET_ID_ANY,
				RING_F_SP_ENQ | RING_F_SC_DEQ);
		EXPECT_NE(r, nullptr);
		rings.push_back(r);
		return r;
	}
};

uint32_t
pkt_id(const struct rte_mbuf *m)
{
	uint32_t id;
	memcpy(&id, rte_pktmbuf_mtod_offset(m, const uint8_t *, 60), 4);
	return id;
}

tuple
flow(int i)
{
	return { RTE_IPV4(198, 18, 0, 1), RTE_IPV4(198, 18, 1, (uint8_t)(1 + i % 200)),
		(uint16_t)(10000 + i), 80 };
}

// Collects a member's inbox: the ids, in the order they arrived.
struct collector {
	struct ex_future base;
	struct ex_stream *in;
	std::vector<uint32_t> ids;
	uint16_t self, n;
	int wrong_owner = 0;
};

enum ex_poll
collect_poll(struct ex_future *f, struct ex_context *cx)
{
	auto *c = EX_CONTAINER_OF(f, struct collector, base);
	union ex_item it;

	while (ex_stream_poll_next(c->in, cx, &it) == EX_NEXT_ITEM) {
		auto *b = static_cast<struct dp_burst *>(it.ptr);
		for (uint16_t i = 0; i < b->n; i++) {
			c->ids.push_back(pkt_id(b->pkts[i]));
			if (dp_steer_owner(b->pkts[i], c->n) != c->self)
				c->wrong_owner++;
		}
		dp_burst_free(b);
	}
	return EX_PENDING;
}

const struct ex_future_ops collect_ops = { collect_poll, nullptr, "collect" };

} // namespace

TEST_F(SteerTest, Owner_SymmetricAndAsTheNicsDefaultTable)
{
	for (uint16_t n : { 2, 3, 4, 8 }) {
		struct dp_port port;
		memset(&port, 0, sizeof(port));
		port.rss = true;
		port.reta_size = 128;
		for (uint16_t i = 0; i < 128; i++)
			port.reta[i] = i % n;
		struct dp_port view;
		dp_steer_port_view(&view, n); // the same table, for TCP's port choice
		EXPECT_TRUE(view.rss);
		EXPECT_EQ(view.nb_queues, n);
		EXPECT_EQ(memcmp(view.reta, port.reta, sizeof(port.reta)), 0);
		std::vector<int> per(n, 0);
		for (int i = 0; i < 400; i++) {
			tuple t = flow(i), back = { t.dst, t.src, t.dport, t.sport };
			struct rte_mbuf *a = Pkt(t, 0), *b = Pkt(back, 0);
			uint16_t o = dp_steer_owner(a, n);
			EXPECT_EQ(o, dp_steer_owner(b, n)) << "both directions, one owner";
			EXPECT_EQ(o, dp_rss_queue(&port, t.src, t.dst, t.sport, t.dport))
					<< "a NIC with RSS and the default table agrees";
			ASSERT_LT(o, n);
			per[o]++;
			rte_pktmbuf_free(a);
			rte_pktmbuf_free(b);
		}
		for (uint16_t k = 0; k < n; k++)
			EXPECT_GT(per[k], 400 / n / 2) << "member " << k << " of " << n;
	}
}

TEST_F(SteerTest, Owner_NoPortsMeansMemberZero)
{
	// ICMP, fragments (first and later), non-IPv4, a runt, one member.
	tuple t = flow(7);
	uint16_t n = 4, owner = 0;
	for (int i = 0; owner == 0 && i < 100; i++) {
		struct rte_mbuf *m = Pkt(flow(i), 0);
		owner = dp_steer_owner(m, n);
		t = flow(i);
		rte_pktmbuf_free(m);
	}
	ASSERT_NE(owner, 0) << "a flow owned by another member";
	std::vector<struct rte_mbuf *> zero = { Pkt(t, 0, IPPROTO_ICMP),
		Pkt(t, 0, IPPROTO_UDP, RTE_IPV4_HDR_MF_FLAG), Pkt(t, 0, IPPROTO_UDP, 100) };
	struct rte_mbuf *arp = Pkt(t, 0);
	rte_pktmbuf_mtod(arp, struct rte_ether_hdr *)->ether_type =
			rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	zero.push_back(arp);
	struct rte_mbuf *runt = Pkt(t, 0);
	runt->data_len = runt->pkt_len = 20;
	zero.push_back(runt);
	for (struct rte_mbuf *m : zero) {
		EXPECT_EQ(dp_steer_owner(m, n), 0);
		rte_pktmbuf_free(m);
	}
	struct rte_mbuf *m = Pkt(t, 0);
	EXPECT_EQ(dp_steer_owner(m, 1), 0);
	rte_pktmbuf_free(m);
}

TEST_F(SteerTest, TwoMembers_EveryPacketToItsOwnerInOrder_CountersAdd)
{
	struct dp_steer_group g;
	ASSERT_EQ(dp_steer_group_create(&g, uniq("ut").c_str(), 0, 1024), -EINVAL);
	ASSERT_EQ(dp_steer_group_create(&g, uniq("ut").c_str(), DP_STEER_MAX + 1, 1024), -EINVAL);
	ASSERT_EQ(dp_steer_group_create(&g, uniq("ut").c_str(), 2, 1024), 0);
	struct rte_ring *q[2] = { Ring(), Ring() }; // each member's "rx queue"
	struct dp_burst_stream rx[2];
	struct dp_steer s[2];
	struct ex_task_ref cls_ref[2], col_ref[2];
	collector col[2];
	for (uint16_t i = 0; i < 2; i++) {
		dp_ring_stream_init(&rx[i], ex, q[i]);
		EXPECT_EQ(dp_steer_init(&s[i], ex, &rx[i].base, &g, 2, nullptr), -EINVAL);
		ASSERT_EQ(dp_steer_init(&s[i], ex, &rx[i].base, &g, i, nullptr), 0);
		ASSERT_EQ(ex_spawn_to(ex, &s[i].cls.base, nullptr, &cls_ref[i]), 0);
		ex_future_init(&col[i].base, &collect_ops);
		col[i].in = &s[i].inbox.base;
		col[i].self = i;
		col[i].n = 2;
		ASSERT_EQ(ex_spawn_to(ex, &col[i].base, nullptr, &col_ref[i]), 0);
	}
	// 600 packets of 30 flows, on both queues, a flow always on one queue
	// (as RSS or a single-queue port delivers them).
	std::vector<uint32_t> want[2];
	uint64_t on_queue_for_other[2] = { 0, 0 };
	for (uint32_t id = 0; id < 600; id++) {
		int f = (int)(id * 7 % 30);
		struct rte_mbuf *m = Pkt(flow(f), id);
		uint16_t owner = dp_steer_owner(m, 2), queue = (uint16_t)(f % 2);
		want[owner].push_back(id);
		on_queue_for_other[queue] += owner != queue;
		ASSERT_EQ(rte_ring_enqueue(q[queue], m), 0);
		if (id % 50 == 49)
			Run(4);
	}
	Run(20);
	for (uint16_t i = 0; i < 2; i++) {
		EXPECT_EQ(col[i].wrong_owner, 0);
		// Per flow, the order it was injected in (two queues feed a member
		// at their own pace, so only a flow's own order is promised).
		for (int f = 0; f < 30; f++) {
			std::vector<uint32_t> got_f, want_f;
			for (uint32_t id : col[i].ids)
				if ((int)(id * 7 % 30) == f)
					got_f.push_back(id);
			for (uint32_t id : want[i])
				if ((int)(id * 7 % 30) == f)
					want_f.push_back(id);
			EXPECT_EQ(got_f, want_f) << "flow " << f << " at member " << i;
		}
		EXPECT_EQ(col[i].ids.size(), want[i].size());
		EXPECT_EQ(dp_steer_steered(&s[i]), on_queue_for_other[i]);
		EXPECT_EQ(dp_steer_kept(&s[i]) + dp_steer_steered(&s[i]), 300u); // per queue
	}
	EXPECT_GT(want[0].size(), 100u);
	EXPECT_GT(want[1].size(), 100u);
	for (uint16_t i = 0; i < 2; i++) {
		ex_task_cancel(&cls_ref[i]);
		ex_task_cancel(&col_ref[i]);
	}
	Run(2);
	for (uint16_t i = 0; i < 2; i++) {
		dp_steer_fini(&s[i]);
		dp_rx_stream_fini(&rx[i]);
	}
	dp_steer_group_free(&g);
}

// ARP, kept consistent by replication: member 0 gets the frame itself,
// every other member a copy in its inbox, whichever queue it came in on.
TEST_F(SteerTest, ArpFrames_Member0GetsTheFrame_EveryOtherACopy)
{
	struct dp_steer_group g;
	ASSERT_EQ(dp_steer_group_create(&g, uniq("ut").c_str(), 3, 1024), 0);
	struct rte_ring *q[3] = { Ring(), Ring(), Ring() };
	struct dp_burst_stream rx[3];
	struct dp_steer s[3];
	struct ex_task_ref cls_ref[3], col_ref[3];
	collector col[3];
	for (uint16_t i = 0; i < 3; i++) {
		dp_ring_stream_init(&rx[i], ex, q[i]);
		ASSERT_EQ(dp_steer_init(&s[i], ex, &rx[i].base, &g, i, pool), 0);
		ASSERT_EQ(ex_spawn_to(ex, &s[i].cls.base, nullptr, &cls_ref[i]), 0);
		ex_future_init(&col[i].base, &collect_ops);
		col[i].in = &s[i].inbox.base;
		col[i].self = i;
		col[i].n = 3;
		ASSERT_EQ(ex_spawn_to(ex, &col[i].base, nullptr, &col_ref[i]), 0);
	}
	for (uint32_t id = 0; id < 6; id++) { // two ARP frames on each queue
		struct rte_mbuf *m = Pkt(flow(0), 1000 + id);
		rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->ether_type =
				rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
		ASSERT_EQ(rte_ring_enqueue(q[id % 3], m), 0);
	}
	Run(20);
	for (uint16_t i = 0; i < 3; i++) {
		std::vector<uint32_t> got = col[i].ids;
		std::sort(got.begin(), got.end());
		EXPECT_EQ(got, (std::vector<uint32_t>{ 1000, 1001, 1002, 1003, 1004, 1005 }))
				<< "member " << i;
		EXPECT_EQ(col[i].wrong_owner, i == 0 ? 0 : 6) << "copies reach 1 and 2 too";
		EXPECT_EQ(s[i].arp_copies, 4u); // its 2 frames, a copy each for 1 and 2
		EXPECT_EQ(s[i].arp_copy_failed, 0u);
	}
	for (uint16_t i = 0; i < 3; i++) {
		ex_task_cancel(&cls_ref[i]);
		ex_task_cancel(&col_ref[i]);
	}
	Run(2);
	for (uint16_t i = 0; i < 3; i++) {
		dp_steer_fini(&s[i]);
		dp_rx_stream_fini(&rx[i]);
	}
	dp_steer_group_free(&g);
}

// A group that follows a port's own RSS table (a NIC that steers) steers by
// that table, not by 128 entries i % n: here one that gives member 1 the
// flows of every odd entry. A table that names a queue outside the group, a
// port without RSS or with another number of queues is refused.
TEST_F(SteerTest, FollowThePortsTable_OwnerByItsEntries_BadTablesRefused)
{
	struct dp_steer_group g;
	ASSERT_EQ(dp_steer_group_create(&g, uniq("ut").c_str(), 2, 1024), 0);
	struct dp_port port;
	memset(&port, 0, sizeof(port));
	port.nb_queues = 2;
	port.reta_size = 64;
	for (int i = 0; i < 64; i++)
		port.reta[i] = (uint16_t)((i / 3) % 2); // not i % 2: another table
	EXPECT_EQ(dp_steer_group_follow(&g, &port), -EINVAL); // RSS off
	port.rss = true;
	port.nb_queues = 3;
	EXPECT_EQ(dp_steer_group_follow(&g, &port), -EINVAL); // 3 queues, 2 members
	port.nb_queues = 2;
	port.reta_size = 48;
	EXPECT_EQ(dp_steer_group_follow(&g, &port), -EINVAL); // not a power of two
	port.reta_size = 64;
	port.reta[5] = 2;
	EXPECT_EQ(dp_steer_group_follow(&g, &port), -EINVAL); // names queue 2
	port.reta[5] = 1;
	ASSERT_EQ(dp_steer_group_follow(&g, &port), 0);
	EXPECT_EQ(g.view.reta_size, 64);

	struct rte_ring *q = Ring(); // member 0's queue; member 1 only as its inbox
	struct dp_burst_stream rx;
	struct dp_steer s;
	struct ex_task_ref ref;
	dp_ring_stream_init(&rx, ex, q);
	ASSERT_EQ(dp_steer_init(&s, ex, &rx.base, &g, 0, nullptr), 0);
	ASSERT_EQ(ex_spawn_to(ex, &s.cls.base, nullptr, &ref), 0);
	uint32_t want1 = 0, differs = 0;
	for (uint32_t id = 0; id < 200; id++) {
		tuple t = flow((int)id);
		struct rte_mbuf *m = Pkt(t, id);
		uint32_t h = dp_rss_hash_ipv4(t.src, t.dst, t.sport, t.dport);
		uint16_t owner = port.reta[h % 64];
		want1 += owner == 1;
		differs += owner != dp_steer_owner(m, 2);
		ASSERT_EQ(rte_ring_enqueue(q, m), 0);
	}
	Run(20);
	EXPECT_GT(differs, 20u) << "the port's table must give other owners than the default";
	EXPECT_EQ(rte_ring_count(g.inbox[1]), want1);
	EXPECT_EQ(rte_ring_count(g.inbox[0]), 200u - want1);
	EXPECT_EQ(dp_steer_steered(&s), want1);
	ex_task_cancel(&ref);
	Run(2);
	dp_steer_fini(&s);
	dp_rx_stream_fini(&rx);
	dp_steer_group_free(&g); // frees what the inboxes hold
}

// The kernel's answer of the tun steering program for one frame (its return
// value, before the tun driver's own "% queues"), run by BPF_PROG_TEST_RUN.
static int
run_prog(int fd, std::vector<uint8_t> frame, uint32_t *ret)
{
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.test.prog_fd = (uint32_t)fd;
	attr.test.data_in = (uint64_t)(uintptr_t)frame.data();
	attr.test.data_size_in = (uint32_t)frame.size();
	attr.test.repeat = 1;
	if (syscall(__NR_bpf, BPF_PROG_TEST_RUN, &attr, sizeof(attr)) != 0)
		return -errno;
	*ret = attr.test.retval;
	return 0;
}

TEST_F(SteerTest, TapProgram_TheKernelPutsEveryFrameOnItsOwnersQueue)
{
	// What a multi-queue net_tap's kernel side runs for each frame: its
	// value % n must be dp_steer_owner(frame, n), for TCP and UDP, any
	// address and port, an IP header with options, and 0 for what has no
	// ports (ICMP, fragments, ARP, runts).
	char log[4096];
	int fd = dp_tap_steer_load(log, sizeof(log));
	if (fd == -EPERM || fd == -EACCES)
		GTEST_SKIP() << "loading a BPF program needs CAP_BPF (root)";
	ASSERT_GE(fd, 0) << strerror(-fd) << "\n" << log;
	std::mt19937 rng(7);
	struct variant {
		uint8_t proto, ihl;
		uint16_t frag;
		uint16_t ethertype;
		size_t len;
		bool has_owner;
	};
	const variant vs[] = {
		{ IPPROTO_TCP, 5, 0, RTE_ETHER_TYPE_IPV4, 64, true },
		{ IPPROTO_UDP, 5, 0, RTE_ETHER_TYPE_IPV4, 64, true },
		{ IPPROTO_TCP, 7, 0, RTE_ETHER_TYPE_IPV4, 80, true }, // 8 bytes of options
		{ IPPROTO_TCP, 5, RTE_IPV4_HDR_DF_FLAG, RTE_ETHER_TYPE_IPV4, 64, true },
		{ IPPROTO_ICMP, 5, 0, RTE_ETHER_TYPE_IPV4, 64, false },
		{ IPPROTO_UDP, 5, RTE_IPV4_HDR_MF_FLAG, RTE_ETHER_TYPE_IPV4, 64, false },
		{ IPPROTO_UDP, 5, 100, RTE_ETHER_TYPE_IPV4, 64, false },
		{ IPPROTO_TCP, 5, 0, RTE_ETHER_TYPE_ARP, 64, false },
		{ IPPROTO_TCP, 5, 0, RTE_ETHER_TYPE_IPV4, 36, false }, // runt: no ports
	};
	unsigned int nonzero = 0;
	for (const variant &v : vs) {
		for (int i = 0; i < 300; i++) {
			tuple t = { (uint32_t)rng(), (uint32_t)rng(), (uint16_t)rng(),
				(uint16_t)rng() };
			std::vector<uint8_t> f(v.len, 0);
			auto *eh = reinterpret_cast<struct rte_ether_hdr *>(f.data());
			eh->ether_type = rte_cpu_to_be_16(v.ethertype);
			auto *ip = reinterpret_cast<struct rte_ipv4_hdr *>(eh + 1);
			ip->version_ihl = (uint8_t)(0x40 | v.ihl);
			ip->next_proto_id = v.proto;
			ip->fragment_offset = rte_cpu_to_be_16(v.frag);
			ip->src_addr = rte_cpu_to_be_32(t.src);
			ip->dst_addr = rte_cpu_to_be_32(t.dst);
			if (sizeof(*eh) + v.ihl * 4u + 4 <= v.len) {
				uint8_t *ports = f.data() + sizeof(*eh) + v.ihl * 4u;
				ports[0] = (uint8_t)(t.sport >> 8);
				ports[1] = (uint8_t)t.sport;
				ports[2] = (uint8_t)(t.dport >> 8);
				ports[3] = (uint8_t)t.dport;
			}
			uint32_t got = 0;
			ASSERT_EQ(run_prog(fd, f, &got), 0);
			ASSERT_LT(got, 128u);
			struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
			ASSERT_NE(m, nullptr);
			memcpy(rte_pktmbuf_append(m, (uint16_t)f.size()), f.data(), f.size());
			for (uint16_t n : { 2, 3, 4, 8 }) {
				EXPECT_EQ(got % n, dp_steer_owner(m, n))
						<< "n " << n << " proto " << int(v.proto) << " ihl "
						<< int(v.ihl) << " frag " << v.frag << " len "
						<< v.len;
			}
			rte_pktmbuf_free(m);
			if (!v.has_owner) {
				EXPECT_EQ(got, 0u);
			}
			nonzero += got != 0;
			if (HasFailure())
				break;
		}
	}
	EXPECT_GT(nonzero, 4u * 300 * 3 / 4) << "the four kinds with ports spread over 128 values";
	close(fd);
}
