// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for tcpstack/stack_host.c: a whole host up on a net_ring port
// (rx ring -> stack -> tx ring, so an ARP request put on the wire is answered
// on it), down with its leak check, and every failed bring-up naming its step
// and leaving nothing behind (no pool, no executor, no open port).
#include <cstring>
#include <string>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <tuple>
#include <vector>

#include <rte_arp.h>
#include <rte_eth_ring.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include "stack_host.h"
#include "tcp_priv.h"
#include "ut_helpers.h"

namespace
{

constexpr uint32_t kIp = 0xc6120002; // 198.18.0.2
constexpr uint32_t kPeer = 0xc6120001; // 198.18.0.1

class StackHostTest : public ::testing::Test
{
      protected:
	struct rte_ring *rx = nullptr, *tx = nullptr;
	std::string port_name;
	struct stack_host_config hc;
	struct stack_host h;

	void SetUp() override
	{
		static int n;
		std::string id = std::to_string(++n);

		rx = rte_ring_create(("uthrx" + id).c_str(), 256, SOCKET_ID_ANY,
				RING_F_SP_ENQ | RING_F_SC_DEQ);
		tx = rte_ring_create(("uthtx" + id).c_str(), 256, SOCKET_ID_ANY,
				RING_F_SP_ENQ | RING_F_SC_DEQ);
		ASSERT_NE(rx, nullptr);
		ASSERT_NE(tx, nullptr);
		port_name = "net_ring_uthost" + id;
		// net_ring names its port "net_ring_" + the name given.
		ASSERT_GE(rte_eth_from_rings(
					  ("uthost" + id).c_str(), &rx, 1, &tx, 1, SOCKET_ID_ANY),
				0);
		stack_host_config_defaults(&hc);
		hc.name = "uthost";
		hc.port_name = port_name.c_str();
		hc.nb_mbufs = 4095;
		hc.port.nb_rxd = 256;
		hc.port.nb_txd = 256;
		hc.port.rx_events = false;
		hc.stack.ip = kIp;
		hc.stack.prefix_len = 24;
		hc.tcp.max_conns = 64;
		hc.ex.max_tasks = 64;
	}

	void TearDown() override
	{
		void *m;
		uint16_t pid;

		// A host that never came up left the fixture's port open.
		if (rte_eth_dev_get_port_by_name(port_name.c_str(), &pid) == 0)
			rte_eth_dev_close(pid);
		while (rte_ring_dequeue(tx, &m) == 0)
			rte_pktmbuf_free(static_cast<struct rte_mbuf *>(m));
		while (rte_ring_dequeue(rx, &m) == 0)
			rte_pktmbuf_free(static_cast<struct rte_mbuf *>(m));
		rte_ring_free(rx);
		rte_ring_free(tx);
		// Whatever happened, the host left no pool and no executor.
		EXPECT_EQ(rte_mempool_lookup("uthost"), nullptr);
		EXPECT_EQ(ex_executor_of_lcore(rte_lcore_id()), nullptr);
	}

	// An ARP request for kIp from kPeer, as a peer on the wire sends it.
	struct rte_mbuf *ArpRequest(struct rte_mempool *mp)
	{
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
		struct rte_ether_addr peer = { { 0x02, 0, 0, 0, 0, 0x01 } };

		if (m == nullptr)
			return nullptr;
		char *p = rte_pktmbuf_append(
				m, sizeof(struct rte_ether_hdr) + sizeof(struct rte_arp_hdr));
		if (p == nullptr) {
			rte_pktmbuf_free(m);
			return nullptr;
		}
		memset(p, 0, sizeof(struct rte_ether_hdr) + sizeof(struct rte_arp_hdr));
		auto *eh = reinterpret_cast<struct rte_ether_hdr *>(p);
		auto *ah = reinterpret_cast<struct rte_arp_hdr *>(eh + 1);
		memset(&eh->dst_addr, 0xff, sizeof(eh->dst_addr));
		eh->src_addr = peer;
		eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
		ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
		ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		ah->arp_hlen = 6;
		ah->arp_plen = 4;
		ah->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
		ah->arp_data.arp_sha = peer;
		ah->arp_data.arp_sip = rte_cpu_to_be_32(kPeer);
		ah->arp_data.arp_tip = rte_cpu_to_be_32(kIp);
		return m;
	}
};

} // namespace

// Up on a ring port, the host answers ARP from the wire: rx stream, stack,
// tx sink and rx task are wired and running; down returns every mbuf.
TEST_F(StackHostTest, Up_AnswersArpOnItsWire_DownLeaksNothing)
{
	ASSERT_EQ(stack_host_up(&h, &hc), 0) << h.err;
	EXPECT_TRUE(h.tcp_on);
	EXPECT_FALSE(h.impaired);
	EXPECT_EQ(ex_executor_of_lcore(rte_lcore_id()), h.ex);
	struct rte_mbuf *req = ArpRequest(h.pool);
	ASSERT_NE(req, nullptr);
	ASSERT_EQ(rte_ring_enqueue(rx, req), 0);
	for (int i = 0; i < 20 && rte_ring_count(tx) == 0; i++)
		ex_run_once(h.ex);
	ASSERT_EQ(rte_ring_count(tx), 1u);
	void *out = nullptr;
	ASSERT_EQ(rte_ring_dequeue(tx, &out), 0);
	auto *m = static_cast<struct rte_mbuf *>(out);
	auto *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	auto *ah = reinterpret_cast<struct rte_arp_hdr *>(eh + 1);
	EXPECT_EQ(rte_be_to_cpu_16(ah->arp_opcode), RTE_ARP_OP_REPLY);
	EXPECT_EQ(rte_be_to_cpu_32(ah->arp_data.arp_sip), kIp);
	rte_pktmbuf_free(m);
	EXPECT_EQ(h.st.stats.arp_replies_out, 1u);
	char buf[512] = "";
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	EXPECT_EQ(stack_host_down(&h, f), 0u);
	fclose(f);
	EXPECT_NE(strstr(buf, "uthost: all mbufs returned to the pool"), nullptr) << buf;
}

// An mbuf the app forgot is reported by down, with its count.
TEST_F(StackHostTest, Down_ReportsAnMbufTheAppKept)
{
	ASSERT_EQ(stack_host_up(&h, &hc), 0) << h.err;
	struct rte_mbuf *kept = rte_pktmbuf_alloc(h.pool);
	ASSERT_NE(kept, nullptr);
	char buf[512] = "";
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	EXPECT_EQ(stack_host_down(&h, f), 1u);
	fclose(f);
	EXPECT_NE(strstr(buf, "uthost: 1 mbufs not returned"), nullptr) << buf;
	// The pool is gone with the host; the mbuf's memory went with it.
}

// The app's sockets close between shutdown and down: a listener closed
// after stack_host_shutdown, then down, leaks nothing.
TEST_F(StackHostTest, ShutdownThenAppClosesThenDown)
{
	struct tcp_listener l;

	ASSERT_EQ(stack_host_up(&h, &hc), 0) << h.err;
	ASSERT_EQ(tcp_listen(&l, &h.tcp, 0, 7, 16), 0);
	stack_host_shutdown(&h);
	stack_host_shutdown(&h); // idempotent
	tcp_listener_close(&l);
	EXPECT_EQ(stack_host_down(&h, nullptr), 0u);
	EXPECT_EQ(stack_host_down(&h, nullptr), 0u); // a second down does nothing
}

// Without TCP the host is ARP/ICMP/UDP only.
TEST_F(StackHostTest, TcpOff_NoTcpStack)
{
	hc.tcp_on = false;
	ASSERT_EQ(stack_host_up(&h, &hc), 0) << h.err;
	EXPECT_FALSE(h.tcp_on);
	EXPECT_EQ(stack_host_down(&h, nullptr), 0u);
}

// Each failure names its step and undoes what came up before it.
TEST_F(StackHostTest, NoAddress_RefusedByName_NothingLeftUp)
{
	hc.stack.ip = 0;
	EXPECT_EQ(stack_host_up(&h, &hc), -EINVAL);
	EXPECT_NE(strstr(h.err, "stack: no address"), nullptr) << h.err;
	// The port was closed: bringing it up again fails as no such device.
	EXPECT_EQ(stack_host_up(&h, &hc), -ENODEV);
}

TEST_F(StackHostTest, PrefixOver32_Refused)
{
	hc.stack.prefix_len = 33;
	EXPECT_EQ(stack_host_up(&h, &hc), -EINVAL);
	EXPECT_NE(strstr(h.err, "prefix length 33"), nullptr) << h.err;
}

TEST_F(StackHostTest, UnknownPort_NamedInTheError)
{
	hc.port_name = "net_ring_nosuch";
	EXPECT_EQ(stack_host_up(&h, &hc), -ENODEV);
	EXPECT_NE(strstr(h.err, "port net_ring_nosuch: no such device"), nullptr) << h.err;
}

TEST_F(StackHostTest, ExecutorAlreadyOnThisLcore_Refused)
{
	struct ex_config ecfg;

	ex_config_defaults(&ecfg);
	struct ex_executor *other = ex_executor_create(rte_lcore_id(), &ecfg);
	ASSERT_NE(other, nullptr);
	EXPECT_EQ(stack_host_up(&h, &hc), -EEXIST);
	EXPECT_NE(strstr(h.err, "executor on lcore"), nullptr) << h.err;
	ex_executor_free(other);
}

// A packet program: every port the EAL has, no stack.
TEST_F(StackHostTest, EveryPortNoStack_PortsAndExecutorOnly)
{
	hc.nb_ports = 0;
	hc.stack_on = false;
	hc.tcp_on = false;
	ASSERT_EQ(stack_host_up(&h, &hc), 0) << h.err;
	EXPECT_EQ(h.nb_ports, 1u); // the fixture's ring port is this process's only one
	EXPECT_STREQ(h.ports[0].name, port_name.c_str());
	EXPECT_FALSE(h.stack_on);
	EXPECT_FALSE(h.tcp_on);
	EXPECT_EQ(stack_host_down(&h, nullptr), 0u);
}

TEST_F(StackHostTest, TcpWithoutStack_Refused)
{
	hc.stack_on = false;
	EXPECT_EQ(stack_host_up(&h, &hc), -EINVAL);
	EXPECT_NE(strstr(h.err, "tcp_on needs stack_on"), nullptr) << h.err;
}

// A worker's share: nb_ports from port_id on (one host per lcore, each on its
// own port pair); a share that runs past the last port names it.
TEST_F(StackHostTest, TwoPortsFromPortId_BothUp_PastTheLastRefused)
{
	struct rte_ring *r2 = rte_ring_create(
			"uth2nd", 256, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	uint16_t first;
	int second;

	ASSERT_NE(r2, nullptr);
	ASSERT_EQ(rte_eth_dev_get_port_by_name(port_name.c_str(), &first), 0);
	second = rte_eth_from_rings("uth2nd", &r2, 1, &r2, 1, SOCKET_ID_ANY);
	ASSERT_EQ(second, first + 1); // port ids are handed out in order
	hc.port_name = nullptr;
	hc.nb_ports = 2;
	hc.stack_on = false;
	hc.tcp_on = false;
	hc.port_id = (uint16_t)second; // second and second + 1: there is none
	EXPECT_EQ(stack_host_up(&h, &hc), -ENODEV);
	EXPECT_NE(strstr(h.err, ("port " + std::to_string(second + 1) + ": no such port").c_str()),
			nullptr)
			<< h.err;
	hc.nb_ports = STACK_HOST_MAX_PORTS + 1;
	EXPECT_EQ(stack_host_up(&h, &hc), -EINVAL);
	EXPECT_NE(strstr(h.err, "at most"), nullptr) << h.err;

	hc.port_id = first;
	hc.nb_ports = 2;
	ASSERT_EQ(stack_host_up(&h, &hc), 0) << h.err;
	EXPECT_EQ(h.nb_ports, 2u);
	EXPECT_EQ(h.ports[0].port_id, first);
	EXPECT_EQ(h.ports[1].port_id, second);
	EXPECT_STREQ(h.ports[1].name, "net_ring_uth2nd");
	EXPECT_EQ(stack_host_down(&h, nullptr), 0u); // closes both ports
	rte_ring_free(r2);
}

// A host that shares another's ports (one queue each per lcore) must name a
// queue the owner configured, not the owner's own, and the owner must have
// ports of its own up. (The shared path itself runs on two lcores:
// tests/integration/test_pktbench.py.)
TEST_F(StackHostTest, AttachToAnotherHostsPorts_BadQueueOrOwner_Refused)
{
	struct stack_host owner, sharer;
	struct stack_host_config sc;

	hc.stack_on = false;
	hc.tcp_on = false;
	ASSERT_EQ(stack_host_up(&owner, &hc), 0) << owner.err; // one queue per port
	sc = hc;
	sc.name = "uthshare";
	sc.attach = &owner;
	sc.queue = 1;
	EXPECT_EQ(stack_host_up(&sharer, &sc), -EINVAL);
	EXPECT_NE(strstr(sharer.err, "queue 1 of net_ring_uthost"), nullptr) << sharer.err;
	EXPECT_NE(strstr(sharer.err, "it has queues 0..0"), nullptr) << sharer.err;
	sc.queue = 0;
	EXPECT_EQ(stack_host_up(&sharer, &sc), -EINVAL);
	EXPECT_NE(strstr(sharer.err, "0 is the owner's"), nullptr) << sharer.err;
	EXPECT_EQ(rte_mempool_lookup("uthshare"), nullptr); // nothing left up
	EXPECT_EQ(stack_host_down(&owner, nullptr), 0u);
	sc.queue = 1;
	EXPECT_EQ(stack_host_up(&sharer, &sc), -EINVAL); // the owner is down
	EXPECT_NE(strstr(sharer.err, "has no ports of its own up"), nullptr) << sharer.err;
}

// The EAL is up in this process: a host asked to start it again says so.
TEST_F(StackHostTest, ArgvWhileTheEalIsUp_EALREADY)
{
	char prog[] = "uthost";
	char *argv[] = { prog, nullptr };

	hc.argc = 1;
	hc.argv = argv;
	EXPECT_EQ(stack_host_up(&h, &hc), -EALREADY);
	EXPECT_NE(strstr(h.err, "already initialised"), nullptr) << h.err;
}

// ---- two lcores sharing a port: software steering under the stacks ----

namespace
{

// Lane 1 of a two-lane host, on lcore 1: attached to the owner's port on
// queue 1, a listener on port 80, and an active open to the peer's port 9.
struct Lane1 {
	struct stack_host_config hc;
	struct stack_host h;
	struct tcp_listener l;
	struct tcp_connect conn;
	int rc = -1;
	uint64_t leaked = ~0ull;
	int state = 0; // 1: up; 2: its loop stopped; 3: down (atomics: main reads it)
	int go_down = 0; // main has taken what it sent off the wire
	char err[256] = "";
};

int
lane1_main(void *arg)
{
	auto *ln = static_cast<Lane1 *>(arg);

	ln->rc = stack_host_up(&ln->h, &ln->hc);
	if (ln->rc == 0)
		ln->rc = tcp_listen(&ln->l, &ln->h.tcp, 0, 80, 16);
	if (ln->rc == 0) {
		tcp_connect_init(&ln->conn, &ln->h.tcp, kPeer, 9);
		ln->rc = ex_spawn(&ln->conn.base, nullptr, nullptr);
	}
	snprintf(ln->err, sizeof(ln->err), "%s", ln->h.err);
	__atomic_store_n(&ln->state, 1, __ATOMIC_RELEASE);
	if (ln->rc != 0)
		return ln->rc;
	ex_run(ln->h.ex);
	stack_host_shutdown(&ln->h); // the active open dropped: its RST goes out
	tcp_listener_close(&ln->l);
	dp_tx_sink_flush(&ln->h.tx[0]);
	// What it sent is still on the ring "wire", from its pool: main takes
	// it off before the pool goes.
	__atomic_store_n(&ln->state, 2, __ATOMIC_RELEASE);
	while (__atomic_load_n(&ln->go_down, __ATOMIC_ACQUIRE) == 0)
		rte_pause();
	ln->leaked = stack_host_down(&ln->h, nullptr);
	__atomic_store_n(&ln->state, 3, __ATOMIC_RELEASE);
	return 0;
}

// A TCP segment from the peer (sport) to us (dport) with the given flags,
// checksums right (net_ring leaves them to the stack).
struct rte_mbuf *
peer_segment(struct rte_mempool *mp, const struct rte_ether_addr &dst, uint16_t sport,
		uint16_t dport, uint8_t flags, uint32_t seq = 1000, uint32_t ack = 0)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	const size_t len = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) +
			   sizeof(struct rte_tcp_hdr);
	struct rte_ether_addr peer = { { 0x02, 0, 0, 0, 0, 0x01 } };

	if (m == nullptr)
		return nullptr;
	char *p = rte_pktmbuf_append(m, len);
	memset(p, 0, len);
	auto *eh = reinterpret_cast<struct rte_ether_hdr *>(p);
	auto *ip = reinterpret_cast<struct rte_ipv4_hdr *>(eh + 1);
	auto *th = reinterpret_cast<struct rte_tcp_hdr *>(ip + 1);
	eh->dst_addr = dst;
	eh->src_addr = peer;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + sizeof(*th));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = rte_cpu_to_be_32(kPeer);
	ip->dst_addr = rte_cpu_to_be_32(kIp);
	th->src_port = rte_cpu_to_be_16(sport);
	th->dst_port = rte_cpu_to_be_16(dport);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(ack);
	th->data_off = (sizeof(*th) / 4) << 4;
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(65535);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	return m;
}

// What came out on a tx ring: ARP opcodes and TCP (sport, dport, flags).
struct Sent {
	std::vector<uint16_t> arp_ops;
	std::vector<std::tuple<uint16_t, uint16_t, uint8_t>> tcp;
};

void
drain_tx(struct rte_ring *r, Sent *out)
{
	void *p;

	while (rte_ring_dequeue(r, &p) == 0) {
		auto *m = static_cast<struct rte_mbuf *>(p);
		auto *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

		if (eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
			auto *ah = reinterpret_cast<struct rte_arp_hdr *>(eh + 1);
			out->arp_ops.push_back(rte_be_to_cpu_16(ah->arp_opcode));
		} else if (eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) {
			auto *ip = reinterpret_cast<struct rte_ipv4_hdr *>(eh + 1);
			auto *th = reinterpret_cast<struct rte_tcp_hdr *>(ip + 1);
			if (ip->next_proto_id == IPPROTO_TCP)
				out->tcp.emplace_back(rte_be_to_cpu_16(th->src_port),
						rte_be_to_cpu_16(th->dst_port), th->tcp_flags);
		}
		rte_pktmbuf_free(m);
	}
}

} // namespace

// Two hosts on one two-queue net_ring port (which cannot steer), the owner on
// this lcore and a sharer on lcore 1: software steering is chosen and said;
// an ARP request that lands on queue 1 is answered once, by the owner, while
// lane 1 learns the peer from its copy; a SYN for lane 1's listener that
// lands on queue 0 is handed to lane 1, which answers on its own queue; lane
// 1's active open picks a local port whose reply steers back to lane 1.
TEST_F(StackHostTest, TwoLanes_SoftwareSteering_ArpOnceSynHandedOver_ActiveOpenComesBack)
{
	unsigned int lc1 = rte_get_next_lcore(rte_lcore_id(), 1, 0);
	if (lc1 >= RTE_MAX_LCORE)
		GTEST_SKIP() << "needs two lcores";
	static int runs; // --gtest_repeat: every name new
	std::string id = std::to_string(++runs), name = "ut2lane" + id, pname = "net_ring_" + name;
	struct rte_ring *rx2[2], *tx2[2];
	for (int i = 0; i < 2; i++) {
		std::string n = id + "_" + std::to_string(i);
		rx2[i] = rte_ring_create(("ut2rx" + n).c_str(), 256, SOCKET_ID_ANY,
				RING_F_SP_ENQ | RING_F_SC_DEQ);
		tx2[i] = rte_ring_create(("ut2tx" + n).c_str(), 256, SOCKET_ID_ANY,
				RING_F_SP_ENQ | RING_F_SC_DEQ);
		ASSERT_NE(rx2[i], nullptr);
		ASSERT_NE(tx2[i], nullptr);
	}
	ASSERT_GE(rte_eth_from_rings(name.c_str(), rx2, 2, tx2, 2, SOCKET_ID_ANY), 0);
	hc.port_name = pname.c_str();
	hc.port.nb_queues = 2;
	ASSERT_EQ(stack_host_up(&h, &hc), 0) << h.err;
	EXPECT_EQ(h.steer_mode, STACK_HOST_STEER_SOFT);
	EXPECT_NE(strstr(h.steer_why, "software steering (net_ring cannot steer"), nullptr)
			<< h.steer_why;

	Lane1 ln;
	ln.hc = hc;
	ln.hc.name = "uthost1";
	ln.hc.attach = &h;
	ln.hc.queue = 1;
	ASSERT_EQ(rte_eal_remote_launch(lane1_main, &ln, lc1), 0);
	while (__atomic_load_n(&ln.state, __ATOMIC_ACQUIRE) == 0)
		ex_run_once(h.ex);
	ASSERT_EQ(ln.rc, 0) << ln.err;
	EXPECT_EQ(ln.h.steer_mode, STACK_HOST_STEER_SOFT);
	EXPECT_TRUE(ln.h.st.cfg.arp_quiet); // only the owner answers ARP

	// The peer asks for us on queue 1: one reply, the owner's, on queue 0.
	ASSERT_EQ(rte_ring_enqueue(rx2[1], ArpRequest(h.pool)), 0);
	Sent q0, q1;
	// Bounded by time, not iterations: a debug build's loop is slow, and a
	// broken build must fail in seconds, not hang (mutate.sh runs it so).
	uint64_t deadline = rte_get_timer_cycles() + 10 * rte_get_timer_hz();
	while (rte_get_timer_cycles() < deadline &&
			(q0.arp_ops.empty() || ln.h.st.stats.arp_requests_in == 0)) {
		ex_run_once(h.ex);
		drain_tx(tx2[0], &q0);
	}
	EXPECT_EQ(q0.arp_ops, std::vector<uint16_t>{ RTE_ARP_OP_REPLY });
	EXPECT_EQ(h.st.stats.arp_replies_out, 1u);

	// A SYN for lane 1's listener, from a port whose flow is lane 1's, on
	// queue 0: the owner hands it over, lane 1 answers on queue 1.
	uint16_t sport = 40000;
	for (;; sport++) {
		struct rte_mbuf *probe =
				peer_segment(h.pool, h.st.cfg.mac, sport, 80, RTE_TCP_SYN_FLAG);
		ASSERT_NE(probe, nullptr);
		uint16_t owner = dp_steer_owner(probe, 2);
		rte_pktmbuf_free(probe);
		if (owner == 1)
			break;
	}
	ASSERT_EQ(rte_ring_enqueue(rx2[0],
				  peer_segment(h.pool, h.st.cfg.mac, sport, 80, RTE_TCP_SYN_FLAG)),
			0);
	bool synack = false, active = false;
	uint16_t active_port = 0;
	deadline = rte_get_timer_cycles() + 10 * rte_get_timer_hz();
	while (rte_get_timer_cycles() < deadline && !(synack && active)) {
		ex_run_once(h.ex);
		drain_tx(tx2[0], &q0);
		drain_tx(tx2[1], &q1);
		for (auto &[s, d, f] : q1.tcp) {
			if (s == 80 && d == sport && f == (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG))
				synack = true;
			if (d == 9 && f == RTE_TCP_SYN_FLAG) {
				active = true;
				active_port = s;
			}
		}
	}
	EXPECT_TRUE(synack) << "lane 1 answered the SYN handed to it, on its own queue";
	EXPECT_TRUE(active) << "lane 1's active open went out on its own queue";
	EXPECT_TRUE(q0.tcp.empty()) << "the owner sent no TCP: neither flow is its own";
	EXPECT_EQ(std::count(q1.arp_ops.begin(), q1.arp_ops.end(), RTE_ARP_OP_REPLY), 0);
	// The reply to lane 1's SYN (peer:9 -> us:active_port) steers to lane 1.
	struct rte_mbuf *reply = peer_segment(
			h.pool, h.st.cfg.mac, 9, active_port, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	ASSERT_NE(reply, nullptr);
	EXPECT_EQ(dp_steer_owner(reply, 2), 1u) << "local port " << active_port;
	rte_pktmbuf_free(reply);
	EXPECT_GE(stack_host_steer_steered(&h), 1u); // the SYN, to lane 1
	EXPECT_GE(stack_host_steer_steered(&ln.h), 1u); // the ARP request, to the owner
	EXPECT_GE(h.steer.arp_copies + ln.h.steer.arp_copies, 1u);

	ex_stop(ln.h.ex);
	while (__atomic_load_n(&ln.state, __ATOMIC_ACQUIRE) != 2)
		rte_pause();
	drain_tx(tx2[0], &q0);
	drain_tx(tx2[1], &q1);
	__atomic_store_n(&ln.go_down, 1, __ATOMIC_RELEASE);
	EXPECT_EQ(rte_eal_wait_lcore(lc1), 0);
	EXPECT_EQ(ln.leaked, 0u);
	EXPECT_EQ(stack_host_down(&h, nullptr), 0u);
	for (int i = 0; i < 2; i++) {
		drain_tx(tx2[i], &q0);
		void *p;
		while (rte_ring_dequeue(rx2[i], &p) == 0)
			rte_pktmbuf_free(static_cast<struct rte_mbuf *>(p));
		rte_ring_free(rx2[i]);
		rte_ring_free(tx2[i]);
	}
}

// More lcores than the port has queues: refused, saying what to do.
TEST_F(StackHostTest, MoreLanesThanTheQueuesOfThePort_RefusedSayingWhy)
{
	hc.port.nb_queues = 2; // the fixture's port has one ring each way
	EXPECT_EQ(stack_host_up(&h, &hc), -EINVAL);
	EXPECT_NE(strstr(h.err, "1 queue pair(s) at most, and 2 lcores need one each"), nullptr)
			<< h.err;
}

// ---- the MTU: jumbo frames where the port takes them ----

namespace
{

// The MSS option of the first SYN-ACK on the tx ring; 0 if none came.
uint16_t
synack_mss(struct rte_ring *r)
{
	void *p;
	uint16_t mss = 0;

	while (rte_ring_dequeue(r, &p) == 0) {
		auto *m = static_cast<struct rte_mbuf *>(p);
		auto *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
		auto *ip = reinterpret_cast<struct rte_ipv4_hdr *>(eh + 1);
		auto *th = reinterpret_cast<struct rte_tcp_hdr *>(ip + 1);

		if (mss == 0 && eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) &&
				ip->next_proto_id == IPPROTO_TCP &&
				th->tcp_flags == (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) {
			auto *o = reinterpret_cast<const uint8_t *>(th + 1);
			size_t olen = (size_t)(th->data_off >> 4) * 4 - sizeof(*th);
			for (size_t i = 0; i < olen && o[i] != 0;) {
				if (o[i] == 1) { // NOP
					i++;
					continue;
				}
				if (i + 1 >= olen || o[i + 1] < 2)
					break;
				if (o[i] == 2 && o[i + 1] == 4 && i + 3 < olen)
					mss = (uint16_t)(o[i + 2] << 8 | o[i + 3]);
				i += o[i + 1];
			}
		}
		rte_pktmbuf_free(m);
	}
	return mss;
}

// Up with a listener on port 80; a SYN from the peer (who asked for our MAC
// first); the MSS our SYN-ACK offers.
uint16_t
offered_mss(struct stack_host *h, struct rte_ring *rx, struct rte_ring *tx,
		struct rte_mbuf *arp_request)
{
	struct tcp_listener l;
	uint16_t mss = 0;

	if (tcp_listen(&l, &h->tcp, 0, 80, 16) != 0)
		return 0;
	if (rte_ring_enqueue(rx, arp_request) == 0 &&
			rte_ring_enqueue(rx, peer_segment(h->pool, h->st.cfg.mac, 40000, 80,
							     RTE_TCP_SYN_FLAG)) == 0) {
		uint64_t deadline = rte_get_timer_cycles() + 5 * rte_get_timer_hz();
		while (mss == 0 && rte_get_timer_cycles() < deadline) {
			ex_run_once(h->ex);
			mss = synack_mss(tx);
		}
	}
	stack_host_shutdown(h);
	tcp_listener_close(&l);
	dp_tx_sink_flush(&h->tx[0]);
	synack_mss(tx); // the RST of the dropped connection
	return mss;
}

} // namespace

// MTU 9000: each mbuf of the pool holds a whole jumbo frame, the stack takes
// the MTU, and TCP offers the MSS it allows (9000 - 40).
TEST_F(StackHostTest, Mtu9000_AnMbufHoldsAFrame_TcpOffersTheMss)
{
	hc.mtu = 9000;
	ASSERT_EQ(stack_host_up(&h, &hc), 0) << h.err;
	EXPECT_GE(rte_pktmbuf_data_room_size(h.pool),
			RTE_PKTMBUF_HEADROOM + 9000 + RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN);
	EXPECT_EQ(h.st.cfg.mtu, 9000);
	EXPECT_EQ(offered_mss(&h, rx, tx, ArpRequest(h.pool)), 8960);
	EXPECT_EQ(stack_host_down(&h, nullptr), 0u);
}

// No MTU given: the pool's mbufs are DPDK's default and TCP offers 1460.
TEST_F(StackHostTest, MtuUnset_DefaultMbufs_TcpOffers1460)
{
	ASSERT_EQ(stack_host_up(&h, &hc), 0) << h.err;
	EXPECT_EQ(rte_pktmbuf_data_room_size(h.pool), RTE_MBUF_DEFAULT_BUF_SIZE);
	EXPECT_EQ(h.st.cfg.mtu, 1500);
	EXPECT_EQ(offered_mss(&h, rx, tx, ArpRequest(h.pool)), 1460);
	EXPECT_EQ(stack_host_down(&h, nullptr), 0u);
}

TEST_F(StackHostTest, MtuOutOfRange_RefusedNamingTheRange)
{
	for (uint16_t mtu : { 575, 9601 }) {
		hc.mtu = mtu;
		EXPECT_EQ(stack_host_up(&h, &hc), -EINVAL) << mtu;
		EXPECT_NE(strstr(h.err, ("MTU " + std::to_string(mtu) + ": must be 576..9600")
							  .c_str()),
				nullptr)
				<< h.err;
	}
}

namespace
{

// The first TCP segment with these flags (of SYN, ACK, FIN, RST; ECN's and
// PSH do not count) on the tx ring, others freed: its source port and
// sequence number; false if none came.
bool
take_segment(struct rte_ring *r, uint8_t flags, uint16_t *sport, uint32_t *seq)
{
	void *p;
	bool found = false;

	while (!found && rte_ring_dequeue(r, &p) == 0) {
		auto *m = static_cast<struct rte_mbuf *>(p);
		auto *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
		auto *ip = reinterpret_cast<struct rte_ipv4_hdr *>(eh + 1);
		auto *th = reinterpret_cast<struct rte_tcp_hdr *>(ip + 1);

		if (eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) &&
				ip->next_proto_id == IPPROTO_TCP &&
				(th->tcp_flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG |
								 RTE_TCP_FIN_FLAG |
								 RTE_TCP_RST_FLAG)) == flags) {
			*sport = rte_be_to_cpu_16(th->src_port);
			*seq = rte_be_to_cpu_32(th->sent_seq);
			found = true;
		}
		rte_pktmbuf_free(m);
	}
	return found;
}

// Runs h's loop until done() or 5 s (a broken build fails, not hangs);
// done()'s last answer.
template <typename F>
bool
run_until(struct stack_host *h, F done)
{
	uint64_t deadline = rte_get_timer_cycles() + 5 * rte_get_timer_hz();

	bool ok;

	while (!(ok = done()) && rte_get_timer_cycles() < deadline)
		ex_run_once(h->ex);
	return ok; // done() once more could be false: take_segment consumes
}

// An established connection from us to the peer's port 80, on a host whose
// wire is (rx, tx); the peer's SYN-ACK has no options (so MSS 536, window
// 65535). *sport: our port; *isn: our initial sequence number.
struct tcp_conn *
open_conn(struct stack_host *h, struct rte_ring *rx, struct rte_ring *tx,
		struct rte_mbuf *arp_request, uint16_t *sport, uint32_t *isn)
{
	static struct tcp_connect c; // the task's memory must outlive it

	// The peer asks for us first, so the stack knows its MAC.
	if (rte_ring_enqueue(rx, arp_request) != 0)
		return nullptr;
	tcp_connect_init(&c, &h->tcp, kPeer, 80);
	int rc = ex_spawn_to(h->ex, &c.base, nullptr, nullptr);
	EXPECT_EQ(rc, 0) << "spawn the connect";
	if (rc != 0)
		return nullptr;
	if (!run_until(h, [&] { return take_segment(tx, RTE_TCP_SYN_FLAG, sport, isn); })) {
		ADD_FAILURE() << "no SYN";
		return nullptr;
	}
	if (rte_ring_enqueue(rx, peer_segment(h->pool, h->st.cfg.mac, 80, *sport,
						 RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, 5000,
						 *isn + 1)) != 0)
		return nullptr;
	if (!run_until(h, [&] { return c.state == TCP_CONNECT_STATE_DONE; }) || c.conn == nullptr ||
			tcp_conn_state(c.conn) != TCP_STATE_ESTABLISHED) {
		ADD_FAILURE() << "not established: " << (int)c.state;
		return nullptr;
	}
	return c.conn;
}

// open_conn(), then our close: our FIN is on the wire (taken off the tx
// ring). *fin_seq: its sequence.
struct tcp_conn *
open_then_close(struct stack_host *h, struct rte_ring *rx, struct rte_ring *tx,
		struct rte_mbuf *arp_request, uint16_t *sport, uint32_t *fin_seq)
{
	uint32_t isn = 0;
	struct tcp_conn *c = open_conn(h, rx, tx, arp_request, sport, &isn);

	if (c == nullptr)
		return nullptr;
	tcp_close(c);
	if (!run_until(h, [&] {
		    return take_segment(tx, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, sport, fin_seq);
	    })) {
		ADD_FAILURE() << "no FIN";
		return nullptr;
	}
	return c;
}

double
ms_since(std::chrono::steady_clock::time_point t0)
{
	return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
			.count();
}

} // namespace

// Our close is under way when the app is done (our FIN not yet answered):
// the linger keeps the loop running until the peer's FIN+ACK arrives 50 ms
// later, answers it (TIME_WAIT, our last ACK on the wire), then waits for
// the wire to be quiet for STACK_HOST_QUIET_MS before it returns; well
// before its bound.
TEST_F(StackHostTest, Linger_RunsUntilTheCloseIsDoneAndTheWireQuiet)
{
	hc.linger_ms = 0; // the test lingers itself
	ASSERT_EQ(stack_host_up(&h, &hc), 0) << h.err;
	uint16_t sport = 0;
	uint32_t fin_seq = 0;
	struct tcp_conn *c = open_then_close(&h, rx, tx, ArpRequest(h.pool), &sport, &fin_seq);
	ASSERT_NE(c, nullptr);
	EXPECT_EQ(tcp_conn_state(c), TCP_STATE_FIN_WAIT_1);

	auto t0 = std::chrono::steady_clock::now();
	struct rte_mbuf *fin = peer_segment(h.pool, h.st.cfg.mac, 80, sport,
			RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, 5001, fin_seq + 1);
	std::thread peer([&] {
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
		EXPECT_EQ(rte_ring_enqueue(rx, fin), 0);
	});
	uint32_t left = stack_host_linger(&h, 2000);
	double took = ms_since(t0);
	peer.join();
	EXPECT_EQ(left, 0u);
	EXPECT_EQ(tcp_conn_state(c), TCP_STATE_TIME_WAIT);
	uint32_t ack_seq = 0;
	EXPECT_TRUE(take_segment(tx, RTE_TCP_ACK_FLAG, &sport, &ack_seq)) << "our last ACK";
	EXPECT_EQ(ack_seq, fin_seq + 1);
	EXPECT_GE(took, 50.0 + STACK_HOST_QUIET_MS) << "the answer, then a quiet wire";
	EXPECT_LT(took, 1000.0) << "not to the bound";
	EXPECT_EQ(stack_host_down(&h, nullptr), 0u);
}

// A peer that never answers our FIN: stack_host_shutdown()'s own linger
// (cfg.linger_ms) ends at its bound, and stack_host_down() says how many
// connections were still closing.
TEST_F(StackHostTest, Linger_BoundedWhenThePeerIsSilent_SaidAtDown)
{
	hc.linger_ms = 100;
	ASSERT_EQ(stack_host_up(&h, &hc), 0) << h.err;
	uint16_t sport = 0;
	uint32_t fin_seq = 0;
	ASSERT_NE(open_then_close(&h, rx, tx, ArpRequest(h.pool), &sport, &fin_seq), nullptr);

	auto t0 = std::chrono::steady_clock::now();
	stack_host_shutdown(&h);
	double took = ms_since(t0);
	EXPECT_EQ(h.linger_left, 1u);
	EXPECT_GE(took, 100.0);
	EXPECT_LT(took, 1000.0);
	char *text = nullptr;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ASSERT_NE(f, nullptr);
	EXPECT_EQ(stack_host_down(&h, f), 0u);
	fclose(f);
	EXPECT_NE(strstr(text, "uthost: 1 connection(s) still closing after a linger of 100 ms"),
			nullptr)
			<< text;
	free(text);
}

// TCP's small queues through a whole host. The port's tx queue holds 15
// frames and nothing drains it yet (a vhost-user peer that lags): a window
// of 120 segments stops at the sink's mark (DP_TX_ROOM_HIGH kept) rather
// than overflowing it. As the peer takes frames, the sink's drain wakes the
// host's rx task, which resumes the connection: every segment once, in
// order, nothing dropped, nothing resent.
TEST_F(StackHostTest, SmallQueues_ASlowTxQueueHoldsTcpBack_NothingDroppedOrResent)
{
	static int runs;
	std::string id = std::to_string(++runs), name = "uthtsq" + id, pname = "net_ring_" + name;
	struct rte_ring *rx3 = rte_ring_create(("uthtsqrx" + id).c_str(), 256, SOCKET_ID_ANY,
			RING_F_SP_ENQ | RING_F_SC_DEQ);
	struct rte_ring *tx3 = rte_ring_create(("uthtsqtx" + id).c_str(), 16, SOCKET_ID_ANY,
			RING_F_SP_ENQ | RING_F_SC_DEQ);
	ASSERT_NE(rx3, nullptr);
	ASSERT_NE(tx3, nullptr);
	ASSERT_GE(rte_eth_from_rings(name.c_str(), &rx3, 1, &tx3, 1, SOCKET_ID_ANY), 0);
	hc.port_name = pname.c_str();
	hc.tcp.init_cwnd = 120; // the peer's window (65535) holds 122 of 536 bytes
	hc.linger_ms = 0;
	ASSERT_EQ(stack_host_up(&h, &hc), 0) << h.err;
	EXPECT_NE(h.st.tx_room, nullptr) << "on by default";
	uint16_t sport = 0;
	uint32_t isn = 0;
	struct tcp_conn *c = open_conn(&h, rx3, tx3, ArpRequest(h.pool), &sport, &isn);
	ASSERT_NE(c, nullptr);
	ASSERT_EQ(c->mss, 536);

	const uint32_t total = 120 * 536;
	std::vector<char> data(total);
	for (uint32_t i = 0; i < total; i++)
		data[i] = (char)(i * 7 + i / 536);
	struct tcp_write w;
	struct ex_context cx = { ex_waker_noop() };
	tcp_write_init(&w, c, data.data(), total);
	ASSERT_EQ(ex_future_poll(&w.base, &cx), EX_READY);
	ASSERT_EQ(w.base.result, (int32_t)total);
	EXPECT_EQ(h.tx[0].n, DP_TX_ROOM_HIGH) << "15 in the queue, then up to the mark";
	EXPECT_EQ(h.tcp.stats.tsq_throttled, 1u);
	EXPECT_EQ(h.tx[0].stats.dropped, 0u);

	// The peer takes the frames as they come, 15 at a time.
	std::string got;
	uint32_t next = isn + 1;
	bool in_order = true;
	for (int i = 0; i < 400 && got.size() < total; i++) {
		void *p;
		while (rte_ring_dequeue(tx3, &p) == 0) {
			auto *m = static_cast<struct rte_mbuf *>(p);
			auto *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
			auto *ip = reinterpret_cast<struct rte_ipv4_hdr *>(eh + 1);
			auto *th = reinterpret_cast<struct rte_tcp_hdr *>(ip + 1);
			uint32_t thl = (uint32_t)(th->data_off >> 4) * 4;
			uint32_t off = (uint32_t)(sizeof(*eh) + sizeof(*ip)) + thl;
			uint32_t len = rte_be_to_cpu_16(ip->total_length) - sizeof(*ip) - thl;

			if (eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) && len > 0) {
				std::string seg(len, '\0');
				// The payload may be a segment of its own (zero copy).
				const void *at = rte_pktmbuf_read(m, off, len, &seg[0]);
				ASSERT_NE(at, nullptr);
				if (at != seg.data())
					memcpy(&seg[0], at, len);
				in_order &= rte_be_to_cpu_32(th->sent_seq) == next;
				next += len;
				got += seg;
			}
			rte_pktmbuf_free(m);
		}
		ex_run_once(h.ex);
	}
	EXPECT_EQ(got.size(), total) << "stalled: " << h.tcp.stats.tsq_resumed << " resumes";
	EXPECT_TRUE(in_order);
	EXPECT_TRUE(got == std::string(data.begin(), data.end()));
	EXPECT_GE(h.tcp.stats.tsq_resumed, 1u);
	EXPECT_EQ(h.tcp.stats.retransmits, 0u);
	EXPECT_EQ(h.tx[0].stats.dropped, 0u);
	tcp_abort(c);
	ex_run_once(h.ex); // the RST leaves
	void *p;
	while (rte_ring_dequeue(tx3, &p) == 0)
		rte_pktmbuf_free(static_cast<struct rte_mbuf *>(p));
	EXPECT_EQ(stack_host_down(&h, nullptr), 0u); // closes the port
	while (rte_ring_dequeue(rx3, &p) == 0)
		rte_pktmbuf_free(static_cast<struct rte_mbuf *>(p));
	rte_ring_free(rx3);
	rte_ring_free(tx3);
}
