// SPDX-License-Identifier: BSD-3-Clause
//
// tcp_fixture.h - a stack with TCP over an injected clock, a scripted peer
// (198.18.0.2:40000) whose segments the test writes field by field, and
// helpers that bring a connection to any state, as smoltcp's and lwIP's
// tests do. The test reads what riptide sent as parsed segments. After each
// test the connection table is torn down and the mbuf pool must be full.
#ifndef RIPTIDE_TCP_FIXTURE_H
#define RIPTIDE_TCP_FIXTURE_H

#include <string>
#include <utility>
#include <vector>

#include <rte_tcp.h>

#include "stack_fixture.h"
#include "tcp.h"
#include "tcp_priv.h"

inline const uint16_t kPeerPort = 40000;
inline const uint16_t kOurPort = 80;

// What riptide sent, parsed.
struct out_seg {
	struct tcp_seg seg;
	std::string data;
	uint32_t src_ip, dst_ip;
	uint16_t tso_segsz = 0; // a TSO segment: the MSS the PMD is to cut it into
};

// Options on a segment from the peer.
struct peer_opts {
	int mss = -1; // -1: none
	int wscale = -1;
	bool ts = false;
	uint32_t tsval = 0, tsecr = 0;
	bool sack_permitted = false;
	std::vector<std::pair<uint32_t, uint32_t>> sack; // SACK blocks to send
};

// A connection from the peer's port `port` (AcceptFrom): its own sequence
// numbers, apart from the fixture's; c is null if the handshake failed.
struct peer_conn {
	struct tcp_conn *c;
	uint16_t port;
	uint32_t seq; // the peer's next
	uint32_t ack; // ours, as the peer acknowledges it
};

class TcpTest : public StackTest
{
      protected:
	struct tcp_stack tcp;
	struct tcp_config tcfg;
	struct tcp_listener lst;
	bool listening = false;
	struct ex_context cx = { ex_waker_noop() };
	uint32_t peer_seq = 1000; // the peer's next sequence number
	uint32_t peer_ts = 5000; // the peer's timestamp clock
	uint32_t seg_dst = kOurIp; // where Seg() addresses its segments
	struct rte_ether_addr seg_src_mac = kPeerMac; // and from which MAC

	void SetUp() override
	{
		StackTest::SetUp();
		tcp_config_defaults(&tcfg);
		Configure(tcfg);
		ASSERT_EQ(tcp_stack_init(&tcp, &st, &tcfg), 0);
		LearnPeer();
		stack_timers = ex_executor_wheel(ex)->armed;
	}

	// Tests adjust tcfg here before the stack starts.
	virtual void Configure(struct tcp_config &)
	{
	}

	// Connections a test leaves on purpose (an established connection it
	// was only about, a TIME_WAIT); TearDown checks the count is exact.
	uint32_t leftover_conns = 0;
	uint64_t stack_timers = 0; // the stack's own, armed once it is up

	void Leaves(uint32_t conns)
	{
		leftover_conns = conns;
	}

	// Leaks are checked before tcp_stack_fini(), which would free any
	// connection left behind and hide it: the connection count must be what
	// the test declared and, when it declared none, nothing may hold an mbuf
	// or an armed timer.
	// Every queue's mbuf count matches its list, and the stack's gauge is
	// their sum (the budget of tcp_mem.c is only as good as this count).
	void ExpectHeldConsistent()
	{
		uint64_t sum = 0;
		for (uint32_t i = 0; i < tcp.cfg.max_conns; i++) {
			const struct tcp_conn *c = &tcp.conns[i];
			uint32_t n[3] = { 0, 0, 0 };
			for (auto *m = c->rcvq_head; m != nullptr; m = m->next)
				n[0]++;
			for (auto *m = c->ooo_head; m != nullptr; m = m->next)
				n[1]++;
			for (auto *m = c->sndq_head; m != nullptr; m = m->next)
				n[2]++;
			EXPECT_EQ(n[0], c->rcvq_segs) << "receive queue of slot " << i;
			EXPECT_EQ(n[1], c->ooo_segs) << "out-of-order queue of slot " << i;
			EXPECT_EQ(n[2], c->sndq_segs) << "send queue of slot " << i;
			sum += n[0] + n[1] + n[2];
		}
		EXPECT_EQ(tcp.stats.mbufs_held, sum) << "the stack's mbufs_held gauge";
	}

	void TearDown() override
	{
		if (listening)
			tcp_listener_close(&lst);
		FreeOut();
		ExpectHeldConsistent();
		EXPECT_EQ(tcp_conns_in_use(&tcp), leftover_conns) << "connections left behind";
		if (leftover_conns == 0) {
			EXPECT_EQ(rte_mempool_in_use_count(pool), 0u) << "mbufs held before fini";
			EXPECT_EQ(ex_executor_wheel(ex)->armed, stack_timers)
					<< "timers armed before fini";
			EXPECT_EQ(ex_tasks_live(ex), 0u) << "tasks alive before fini";
		}
		tcp_stack_fini(&tcp);
		StackTest::TearDown();
	}

	void LearnPeer()
	{
		Input(Arp(RTE_ARP_OP_REQUEST, kPeerMac, kPeerIp, kOurIp));
		FreeOut();
	}

	void Listen(uint16_t backlog = 16)
	{
		ASSERT_EQ(tcp_listen(&lst, &tcp, 0, kOurPort, backlog), 0);
		listening = true;
	}

	// A segment from the peer, checksummed.
	std::vector<uint8_t> Seg(uint8_t flags, uint32_t seq, uint32_t ack,
			const std::string &payload = "", uint16_t wnd = 65535,
			const peer_opts &po = peer_opts(), uint16_t sport = kPeerPort,
			uint16_t dport = kOurPort)
	{
		struct tcp_opts o;
		uint8_t ob[40];
		std::memset(&o, 0, sizeof(o));
		if (po.mss >= 0) {
			o.has_mss = true;
			o.mss = (uint16_t)po.mss;
		}
		if (po.wscale >= 0) {
			o.has_wscale = true;
			o.wscale = (uint8_t)po.wscale;
		}
		o.sack_permitted = po.sack_permitted;
		for (const auto &b : po.sack) {
			o.sack[o.nsack].left = b.first;
			o.sack[o.nsack].right = b.second;
			o.nsack++;
		}
		if (po.ts) {
			o.has_ts = true;
			o.tsval = po.tsval;
			o.tsecr = po.tsecr;
		}
		int olen = tcp_opts_build(&o, ob);
		EXPECT_GE(olen, 0);
		size_t thl = 20 + (size_t)olen;
		std::vector<uint8_t> f(14 + 20 + thl + payload.size());
		auto *eh = reinterpret_cast<rte_ether_hdr *>(f.data());
		auto *ip = reinterpret_cast<rte_ipv4_hdr *>(eh + 1);
		auto *th = reinterpret_cast<rte_tcp_hdr *>(ip + 1);
		eh->dst_addr = kOurMac;
		eh->src_addr = seg_src_mac;
		eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + thl + payload.size()));
		ip->time_to_live = 64;
		ip->next_proto_id = IPPROTO_TCP;
		ip->src_addr = rte_cpu_to_be_32(kPeerIp);
		ip->dst_addr = rte_cpu_to_be_32(seg_dst);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		th->src_port = rte_cpu_to_be_16(sport);
		th->dst_port = rte_cpu_to_be_16(dport);
		th->sent_seq = rte_cpu_to_be_32(seq);
		th->recv_ack = rte_cpu_to_be_32(ack);
		th->data_off = (uint8_t)((thl / 4) << 4);
		th->tcp_flags = flags;
		th->rx_win = rte_cpu_to_be_16(wnd);
		std::memcpy(th + 1, ob, (size_t)olen);
		std::memcpy(reinterpret_cast<uint8_t *>(th) + thl, payload.data(), payload.size());
		th->cksum = rte_ipv4_udptcp_cksum(ip, th);
		return f;
	}

	// Frames other than TCP that a test expects among what riptide sends
	// (ARP, ICMP); any other one fails Sent(), so "no answer" means none.
	uint32_t non_tcp_allowed = 0;

	// Everything riptide sent since the last call, parsed; frames freed.
	std::vector<out_seg> Sent()
	{
		std::vector<out_seg> v;
		uint32_t non_tcp = 0;
		for (auto *m : out) {
			std::vector<uint8_t> buf(rte_pktmbuf_pkt_len(m));
			const uint8_t *p = static_cast<const uint8_t *>(
					rte_pktmbuf_read(m, 0, (uint32_t)buf.size(), buf.data()));
			EXPECT_NE(p, nullptr);
			auto *ip = reinterpret_cast<const rte_ipv4_hdr *>(p + 14);
			auto *eh = reinterpret_cast<const rte_ether_hdr *>(p);
			if (eh->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
					ip->next_proto_id != IPPROTO_TCP || buf.size() < 54) {
				non_tcp++;
				continue;
			}
			std::vector<uint8_t> copy(p, p + buf.size());
			auto *cip = reinterpret_cast<rte_ipv4_hdr *>(copy.data() + 14);
			uint16_t iplen = rte_be_to_cpu_16(ip->total_length);
			out_seg o;
			if (m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) {
				// TSO: the PMD checksums each piece from the pseudo-header's
				// sum without a length, and needs the header lengths.
				auto *th = reinterpret_cast<const rte_tcp_hdr *>(p + 34);
				EXPECT_EQ(th->cksum, rte_ipv4_phdr_cksum(cip, m->ol_flags));
				EXPECT_TRUE(m->ol_flags & RTE_MBUF_F_TX_IPV4);
				EXPECT_EQ(m->l2_len, 14u);
				EXPECT_EQ(m->l3_len, 20u);
				EXPECT_EQ(m->l4_len, (th->data_off >> 4) * 4u);
				uint16_t ipsum = cip->hdr_checksum;
				cip->hdr_checksum = 0;
				EXPECT_EQ(rte_ipv4_cksum(cip), ipsum) << "IP header checksum";
				o.tso_segsz = m->tso_segsz;
			} else if ((m->ol_flags & RTE_MBUF_F_TX_L4_MASK) ==
					RTE_MBUF_F_TX_TCP_CKSUM) {
				// Left to the PMD: the pseudo-header's sum, with the length.
				auto *th = reinterpret_cast<const rte_tcp_hdr *>(p + 34);
				EXPECT_EQ(th->cksum, rte_ipv4_phdr_cksum(cip, m->ol_flags));
			} else {
				// Every other segment carries a valid checksum.
				EXPECT_EQ(rte_ipv4_udptcp_cksum_verify(cip, cip + 1), 0)
						<< "bad TCP checksum";
			}
			EXPECT_EQ(tcp_seg_parse(p + 34, iplen - 20u, &o.seg), TCP_PARSE_OK);
			o.data.assign(reinterpret_cast<const char *>(p + 34 + o.seg.hlen),
					o.seg.len);
			o.src_ip = rte_be_to_cpu_32(ip->src_addr);
			o.dst_ip = rte_be_to_cpu_32(ip->dst_addr);
			v.push_back(o);
		}
		FreeOut();
		EXPECT_LE(non_tcp, non_tcp_allowed) << "riptide sent frames other than TCP";
		non_tcp_allowed -= RTE_MIN(non_tcp, non_tcp_allowed);
		return v;
	}

	// Exactly one segment sent: return it.
	out_seg One()
	{
		auto v = Sent();
		EXPECT_EQ(v.size(), 1u);
		if (v.empty())
			return out_seg{};
		return v[0];
	}

	void In(const std::vector<uint8_t> &f)
	{
		Input(f);
	}

	// Several frames in one rx burst (ACKs held for the burst go at its end).
	void InBurst(const std::vector<std::vector<uint8_t>> &frames)
	{
		for (auto &f : frames) {
			struct rte_mbuf *m = Frame(f.data(), f.size());
			ASSERT_NE(m, nullptr);
			stack_input(&st, m);
		}
		stack_rx_burst_end(&st);
	}

	// Passive open from the peer up to an accepted connection. Options as
	// Linux sends them unless told otherwise.
	struct tcp_conn *Accept(
			bool ts = true, int wscale = 7, uint16_t mss = 1460, bool sack = false)
	{
		if (!listening)
			Listen();
		peer_opts po;
		po.mss = mss;
		po.wscale = wscale;
		po.ts = ts;
		po.sack_permitted = sack;
		po.tsval = peer_ts;
		In(Seg(TCP_FLAG_SYN, peer_seq, 0, "", 64240, po));
		out_seg sa = One();
		EXPECT_EQ(sa.seg.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
		EXPECT_EQ(sa.seg.ack, peer_seq + 1);
		peer_seq++;
		our_seq = sa.seg.seq + 1;
		our_ts = sa.seg.opts.tsval;
		In(Ack(our_seq));
		struct tcp_accept a;
		tcp_accept_init(&a, &lst);
		EXPECT_EQ(ex_future_poll(&a.base, &cx), EX_READY);
		EXPECT_EQ(a.base.result, 0);
		EXPECT_TRUE(Sent().empty());
		return a.conn;
	}

	// A passive open from the peer's port `port`, no options (window
	// 64240, no scaling), up to an accepted connection.
	peer_conn AcceptFrom(uint16_t port)
	{
		if (!listening)
			Listen(64);
		peer_opts po;
		po.mss = 1460;
		uint32_t iss = 100000u * port;
		In(Seg(TCP_FLAG_SYN, iss, 0, "", 64240, po, port));
		out_seg sa = One();
		EXPECT_EQ(sa.seg.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
		In(Seg(TCP_FLAG_ACK, iss + 1, sa.seg.seq + 1, "", 64240, peer_opts(), port));
		struct tcp_accept a;
		tcp_accept_init(&a, &lst);
		if (ex_future_poll(&a.base, &cx) != EX_READY || a.base.result != 0) {
			ADD_FAILURE() << "no connection from port " << port;
			ex_future_drop(&a.base);
			return peer_conn{ nullptr, port, 0, 0 };
		}
		return peer_conn{ a.conn, port, iss + 1, sa.seg.seq + 1 };
	}

	uint32_t our_seq = 0; // riptide's next sequence number as the peer sees it
	uint32_t our_ts = 0;

	peer_opts Ts()
	{
		peer_opts po;
		po.ts = true;
		po.tsval = ++peer_ts;
		po.tsecr = our_ts;
		return po;
	}

	// A pure ACK from the peer (with a timestamp when ts is on).
	std::vector<uint8_t> Ack(uint32_t ack, uint16_t wnd = 502, bool ts = true)
	{
		return Seg(TCP_FLAG_ACK, peer_seq, ack, "", wnd, ts ? Ts() : peer_opts());
	}

	// An ICMP destination unreachable (code) from the peer's address, quoting
	// the IPv4 header and first 8 bytes of a segment we would have sent from
	// our port sport to the peer's dport with sequence number seq.
	// mtu: the next-hop MTU of a code 4 (fragmentation needed).
	std::vector<uint8_t> IcmpUnreach(uint8_t code, uint16_t sport, uint16_t dport, uint32_t seq,
			uint16_t mtu = 0, uint16_t quoted_len = 60)
	{
		std::vector<uint8_t> f(14 + 20 + 8 + 20 + 8);
		auto *eh = reinterpret_cast<rte_ether_hdr *>(f.data());
		auto *ip = reinterpret_cast<rte_ipv4_hdr *>(eh + 1);
		auto *ic = reinterpret_cast<rte_icmp_hdr *>(ip + 1);
		auto *iip = reinterpret_cast<rte_ipv4_hdr *>(ic + 1);
		auto *ith = reinterpret_cast<rte_tcp_hdr *>(iip + 1);
		eh->dst_addr = kOurMac;
		eh->src_addr = kPeerMac;
		eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(f.size() - 14));
		ip->time_to_live = 64;
		ip->next_proto_id = IPPROTO_ICMP;
		ip->src_addr = rte_cpu_to_be_32(kPeerIp);
		ip->dst_addr = rte_cpu_to_be_32(kOurIp);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		iip->version_ihl = RTE_IPV4_VHL_DEF;
		iip->total_length = rte_cpu_to_be_16(quoted_len);
		iip->time_to_live = 64;
		iip->next_proto_id = IPPROTO_TCP;
		iip->src_addr = rte_cpu_to_be_32(kOurIp);
		iip->dst_addr = rte_cpu_to_be_32(kPeerIp);
		iip->hdr_checksum = rte_ipv4_cksum(iip);
		ith->src_port = rte_cpu_to_be_16(sport);
		ith->dst_port = rte_cpu_to_be_16(dport);
		ith->sent_seq = rte_cpu_to_be_32(seq);
		ic->icmp_type = 3;
		ic->icmp_code = code;
		ic->icmp_seq_nb = rte_cpu_to_be_16(mtu);
		ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, f.size() - 34);
		return f;
	}

	// Data from the peer at peer_seq; peer_seq advances.
	std::vector<uint8_t> Data(const std::string &d, uint8_t extra = 0, bool ts = true)
	{
		auto f = Seg(TCP_FLAG_ACK | extra, peer_seq, our_seq, d, 502,
				ts ? Ts() : peer_opts());
		peer_seq += (uint32_t)d.size() + ((extra & TCP_FLAG_FIN) ? 1 : 0);
		return f;
	}

	// Drain a connection's receive queue into a string.
	std::string ReadAll(struct tcp_conn *c)
	{
		std::string s;
		char buf[4096];
		for (;;) {
			struct tcp_read r;
			tcp_read_init(&r, c, buf, sizeof(buf));
			if (ex_future_poll(&r.base, &cx) == EX_PENDING) {
				ex_future_drop(&r.base);
				break;
			}
			if (r.base.result <= 0)
				break;
			s.append(buf, (size_t)r.base.result);
		}
		return s;
	}

	// Queue len bytes (a repeating pattern) for sending.
	int Write(struct tcp_conn *c, const std::string &d)
	{
		struct tcp_write w;
		tcp_write_init(&w, c, d.data(), (uint32_t)d.size());
		if (ex_future_poll(&w.base, &cx) == EX_PENDING) {
			ex_future_drop(&w.base);
			return (int)w.done;
		}
		return w.base.result;
	}

	static std::string Pattern(size_t n, unsigned seed = 1)
	{
		std::string s(n, '\0');
		uint32_t x = seed * 2654435761u + 1;
		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			s[i] = (char)(x >> 16);
		}
		return s;
	}
};

#endif
