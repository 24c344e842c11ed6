// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for dataplane/dp_port.c: the pool leak check an app runs after
// closing its ports (a PMD that keeps its rx fill at close, net_af_xdp, may
// keep what it took at start, and not one mbuf more; every other port must
// give everything back), and the MTU a port takes.
#include <string>
#include <vector>

#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dp_port.h"
#include "ut_helpers.h"

namespace
{

class DpPortLeak : public ::testing::Test
{
      protected:
	struct rte_mempool *pool = nullptr;
	struct rte_mempool *other = nullptr;
	std::vector<struct rte_mbuf *> held;

	void SetUp() override
	{
		static int n;
		std::string a = "utleak" + std::to_string(++n), b = "utleako" + std::to_string(n);
		pool = rte_pktmbuf_pool_create(
				a.c_str(), 511, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
		other = rte_pktmbuf_pool_create(
				b.c_str(), 511, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
		ASSERT_NE(pool, nullptr);
		ASSERT_NE(other, nullptr);
	}

	void TearDown() override
	{
		for (struct rte_mbuf *m : held)
			rte_pktmbuf_free(m);
		EXPECT_EQ(rte_mempool_in_use_count(pool), 0u);
		rte_mempool_free(pool);
		rte_mempool_free(other);
	}

	void Take(unsigned int n)
	{
		for (unsigned int i = 0; i < n; i++) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
			ASSERT_NE(m, nullptr);
			held.push_back(m);
		}
	}

	static struct dp_port Keeper(struct rte_mempool *mp, uint32_t fill)
	{
		struct dp_port p = {};

		p.pool = mp;
		p.pmd_keeps_mbufs = true;
		p.pmd_held = fill;
		return p;
	}
};

TEST_F(DpPortLeak, NothingOut_NoLeak)
{
	uint64_t kept = 99;

	EXPECT_EQ(dp_pool_leaked(pool, nullptr, 0, &kept), 0u);
	EXPECT_EQ(kept, 0u);
}

TEST_F(DpPortLeak, PortThatGivesBack_EveryMbufOutIsALeak)
{
	struct dp_port p = {};

	p.pool = pool;
	p.pmd_held = 64; // a PMD that returns its fill at close gets no allowance
	Take(3);
	EXPECT_EQ(dp_pool_leaked(pool, &p, 1, nullptr), 3u);
}

TEST_F(DpPortLeak, KeeperMayKeepItsFill_NotOneMore)
{
	struct dp_port p = Keeper(pool, 5);
	uint64_t kept = 0;

	Take(5);
	EXPECT_EQ(dp_pool_leaked(pool, &p, 1, &kept), 0u);
	EXPECT_EQ(kept, 5u);
	Take(1);
	EXPECT_EQ(dp_pool_leaked(pool, &p, 1, nullptr), 1u);
}

TEST_F(DpPortLeak, KeeperOnAnotherPool_GivesNoAllowanceHere)
{
	struct dp_port ports[2] = { Keeper(other, 100), {} };

	ports[1].pool = pool;
	Take(2);
	EXPECT_EQ(dp_pool_leaked(pool, ports, 2, nullptr), 2u);
}

TEST_F(DpPortLeak, Report_SaysWhichOfTheThreeAndReturnsTheLeak)
{
	struct dp_port p = Keeper(pool, 4);
	char buf[512];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	ASSERT_NE(f, nullptr);
	EXPECT_EQ(dp_pool_leak_report(pool, &p, 1, "t: ", f), 0u);
	Take(4);
	EXPECT_EQ(dp_pool_leak_report(pool, &p, 1, "t: ", f), 0u);
	Take(2);
	EXPECT_EQ(dp_pool_leak_report(pool, &p, 1, "t: ", f), 2u);
	fclose(f);
	std::string out(buf);
	EXPECT_NE(out.find("t: all mbufs returned to the pool\n"), std::string::npos) << out;
	EXPECT_NE(out.find("t: 4 mbufs kept by net_af_xdp's fill ring after close (at most 4"),
			std::string::npos)
			<< out;
	EXPECT_NE(out.find("t: 2 mbufs not returned to the pool\n"), std::string::npos) << out;
}

// A real port: net_ring takes nothing at start and keeps nothing, so its
// allowance is zero and an mbuf the app forgot is reported.
TEST_F(DpPortLeak, RingPort_NoAllowance_ForgottenMbufReported)
{
	struct rte_ring *r = rte_ring_create(
			"utleakring", 256, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	ASSERT_NE(r, nullptr);
	int id = rte_eth_from_rings("net_ring_utleak", &r, 1, &r, 1, SOCKET_ID_ANY);
	ASSERT_GE(id, 0);
	struct dp_port_config cfg;
	struct dp_port p;

	dp_port_config_defaults(&cfg);
	cfg.pool = pool;
	ASSERT_EQ(dp_port_init(&p, static_cast<uint16_t>(id), &cfg), 0);
	EXPECT_FALSE(p.pmd_keeps_mbufs);
	Take(1);
	dp_port_close(&p);
	EXPECT_EQ(dp_pool_leaked(pool, &p, 1, nullptr), 1u);
	rte_ring_free(r);
}

} // namespace

// ---- the MTU ----

// net_memif reports a 1518-byte frame but carries longer ones, each in one
// of its buffers (bsize=): a jumbo MTU is taken where a frame fits a buffer,
// and refused where frames would span buffers (which DPDK 22.11's memif
// garbles). Only configured: a memif port needs no peer for that.
TEST(DpPortMtu, Memif_JumboTakenOnlyWhereABufferHoldsAFrame)
{
	static int runs;
	struct rte_mempool *mp = rte_pktmbuf_pool_create(("utmtu" + std::to_string(++runs)).c_str(),
			1023, 0, 0, 9216 + RTE_PKTMBUF_HEADROOM, SOCKET_ID_ANY);
	ASSERT_NE(mp, nullptr);
	struct {
		const char *bsize;
		uint16_t mtu;
		int rc;
	} cases[] = {
		{ "", 1500, 0 }, // 1514-byte frames in the default 2048
		{ "", 9000, -EINVAL }, // 9014 in 2048: five buffers a frame
		{ ",bsize=4096", 9000, -EINVAL },
		{ ",bsize=9216", 9000, 0 },
		{ ",bsize=9014", 9000, 0 }, // exactly a frame
		{ ",bsize=9013", 9000, -EINVAL },
	};
	for (const auto &c : cases) {
		std::string id = std::to_string(runs) + "_" + std::to_string(&c - cases);
		std::string name = "net_memif_utmtu" + id;
		std::string args = "role=server,id=0,socket=/tmp/rt-utmtu" + id + ".sock" + c.bsize;
		ASSERT_EQ(rte_vdev_init(name.c_str(), args.c_str()), 0) << args;
		uint16_t pid;
		ASSERT_EQ(rte_eth_dev_get_port_by_name(name.c_str(), &pid), 0);
		struct dp_port_config cfg;
		dp_port_config_defaults(&cfg);
		cfg.pool = mp;
		cfg.mtu = c.mtu;
		cfg.rx_events = false;
		cfg.defer_start = true;
		struct dp_port p;
		EXPECT_EQ(dp_port_init(&p, pid, &cfg), c.rc) << args << " mtu " << c.mtu;
		rte_eth_dev_close(pid);
		rte_vdev_uninit(name.c_str());
		unlink(("/tmp/rt-utmtu" + id + ".sock").c_str());
	}
	EXPECT_EQ(rte_mempool_in_use_count(mp), 0u);
	rte_mempool_free(mp);
}

// net_af_xdp (DPDK 22.11) registers a pool as its umem by a formula: from the
// page of the pool's first memory chunk, populated objects x object size
// bytes; a frame outside it is dropped by the kernel as an invalid descriptor
// and its mbuf never returns. Under --no-huge (as here) rte_pktmbuf_pool_create
// keeps each 2.3 KiB mbuf inside a 4 KiB page, so most of the pool lies past
// that end: a proxied 100 MB transfer on AF_XDP stopped sending once the
// pool's rotation reached those mbufs. dp_pktmbuf_pool(umem) packs them.
TEST(DpPool, AfXdpUmem_EveryFrameInsideWhatThePmdRegisters)
{
	static int runs;
	std::string id = std::to_string(++runs);
	const uint32_t n = 2047;
	auto inside = [](struct rte_mempool *mp, std::vector<struct rte_mbuf *> &all) {
		// The PMD's own arithmetic (xdp_umem_configure, af_xdp_tx_zc).
		const struct rte_mempool_memhdr *first = STAILQ_FIRST(&mp->mem_list);
		uintptr_t pg = (uintptr_t)getpagesize();
		uintptr_t base = (uintptr_t)first->addr & ~(pg - 1);
		uint64_t size = (uint64_t)mp->populated_size *
						rte_mempool_calc_obj_size(
								mp->elt_size, mp->flags, nullptr) +
				((uintptr_t)first->addr - base);
		uint32_t out = 0;
		for (struct rte_mbuf *m : all) {
			uint64_t addr = (uintptr_t)m - base - mp->header_size;
			uint64_t off = rte_pktmbuf_mtod(m, uintptr_t) - (uintptr_t)m +
				       mp->header_size;
			if (addr + off + rte_pktmbuf_tailroom(m) > size)
				out++;
		}
		return out;
	};

	struct rte_mempool *padded = rte_pktmbuf_pool_create(
			("utpad" + id).c_str(), n, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	ASSERT_NE(padded, nullptr);
	std::vector<struct rte_mbuf *> all(n);
	ASSERT_EQ(rte_pktmbuf_alloc_bulk(padded, all.data(), n), 0);
	EXPECT_GT(inside(padded, all), n / 4) << "4 KiB pages: the page-padded pool should overrun";
	EXPECT_FALSE(dp_pool_umem_ok(padded));
	rte_pktmbuf_free_bulk(all.data(), n);
	rte_mempool_free(padded);

	struct rte_mempool *mp = dp_pktmbuf_pool(("utumem" + id).c_str(), n, 0,
			RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY, true);
	ASSERT_NE(mp, nullptr);
	EXPECT_EQ(mp->nb_mem_chunks, 1u);
	EXPECT_TRUE(dp_pool_umem_ok(mp));
	ASSERT_EQ(rte_pktmbuf_alloc_bulk(mp, all.data(), n), 0);
	EXPECT_EQ(inside(mp, all), 0u);
	for (struct rte_mbuf *m : all) { // each one a whole, usable pktmbuf
		ASSERT_EQ(m->pool, mp);
		ASSERT_EQ(m->buf_len, RTE_MBUF_DEFAULT_BUF_SIZE);
		ASSERT_EQ(m->data_off, RTE_PKTMBUF_HEADROOM);
		ASSERT_EQ(rte_pktmbuf_tailroom(m), RTE_MBUF_DEFAULT_DATAROOM);
	}
	EXPECT_EQ(rte_pktmbuf_data_room_size(mp), RTE_MBUF_DEFAULT_BUF_SIZE);
	rte_pktmbuf_free_bulk(all.data(), n);
	EXPECT_EQ(rte_mempool_avail_count(mp), n);
	rte_mempool_free(mp);
}
