// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for dataplane/dp_eal.c. The EAL is already up (ut_main), which
// is itself a case: a second bootstrap must fail cleanly, not exit.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "dp_eal.h"
#include "ut_helpers.h"

static bool
hugetlbfs_mounted()
{
	std::ifstream f("/proc/mounts");
	std::string line;
	while (std::getline(f, line))
		if (line.find(" hugetlbfs ") != std::string::npos)
			return true;
	return false;
}

TEST(DpEal, HugepagesFreeMb_AgreesWithProcMeminfo)
{
	std::ifstream f("/proc/meminfo");
	std::string key;
	unsigned long free_pages = 0, size_kb = 0, v;
	while (f >> key >> v) {
		if (key == "HugePages_Free:")
			free_pages = v;
		if (key == "Hugepagesize:")
			size_kb = v;
		f.ignore(256, '\n');
	}
	unsigned int want = hugetlbfs_mounted() ? (unsigned int)(free_pages * size_kb / 1024) : 0;
	EXPECT_EQ(dp_hugepages_free_mb(), want);
}

TEST(DpEal, SecondInit_ReturnsErrnoAndDoesNotExit)
{
	char prog[] = "dp_eal_test", noh[] = "--no-huge", dd[] = "--", app[] = "--mode";
	char *argv[] = { prog, noh, dd, app, nullptr };
	struct dp_eal_info info;
	int rc = dp_eal_init(4, argv, 64, &info);
	EXPECT_LT(rc, 0) << "the EAL is already initialised";
	EXPECT_EQ(rc, -EALREADY);
}

TEST(DpEal, TooManyArguments_EINVAL)
{
	char prog[] = "x";
	char *argv[200];
	for (auto &a : argv)
		a = prog;
	EXPECT_EQ(dp_eal_init(200, argv, 64, nullptr), -EINVAL);
}

// The memory plan, with any free hugepage count: what a user with or without
// hugepages gets for each way of asking.
namespace
{

struct PlanArgs {
	std::vector<std::string> store;
	std::vector<char *> argv;
	explicit PlanArgs(std::initializer_list<const char *> a)
	{
		store.emplace_back("app");
		for (const char *s : a)
			store.emplace_back(s);
		for (auto &s : store)
			argv.push_back(s.data());
	}
	int Plan(unsigned int min_mb, unsigned int free_mb, struct dp_eal_mem_plan *p)
	{
		return dp_eal_mem_plan((int)argv.size(), argv.data(), min_mb, free_mb, p);
	}
};

} // namespace

TEST(DpEalMemPlan, NoOption_EnoughHugepages_NothingAdded)
{
	struct dp_eal_mem_plan p;
	EXPECT_EQ(PlanArgs({ "-l", "0" }).Plan(256, 1024, &p), 0);
	EXPECT_FALSE(p.add_no_huge);
	EXPECT_EQ(p.add_mb, 0u);
	EXPECT_STREQ(p.note, "");
}

TEST(DpEalMemPlan, NoOption_TooFew_NoHugeWithMinimum_AndSaysWhy)
{
	struct dp_eal_mem_plan p;
	EXPECT_EQ(PlanArgs({ "-l", "0" }).Plan(256, 100, &p), 0);
	EXPECT_TRUE(p.add_no_huge);
	EXPECT_EQ(p.add_mb, 256u);
	EXPECT_NE(std::string(p.note).find("scripts/hugepages.sh reserve"), std::string::npos);
}

TEST(DpEalMemPlan, DashM_MoreThanFree_FallsBackKeepingTheSize)
{
	struct dp_eal_mem_plan p;
	EXPECT_EQ(PlanArgs({ "-l", "0", "-m", "512" }).Plan(256, 0, &p), 0);
	EXPECT_TRUE(p.add_no_huge) << "else the EAL fails with 'Permission denied'";
	EXPECT_EQ(p.add_mb, 0u) << "-m 512 stays the size";
	EXPECT_NE(std::string(p.note).find("-m 512 wants 512 MB of hugepages and 0 MB are free"),
			std::string::npos)
			<< p.note;
	EXPECT_EQ(PlanArgs({ "-m512" }).Plan(256, 100, &p), 0);
	EXPECT_TRUE(p.add_no_huge);
}

TEST(DpEalMemPlan, DashM_Enough_AsGiven)
{
	struct dp_eal_mem_plan p;
	EXPECT_EQ(PlanArgs({ "-m", "512" }).Plan(256, 512, &p), 0);
	EXPECT_FALSE(p.add_no_huge);
}

TEST(DpEalMemPlan, UserChoseTheMemory_AsGiven)
{
	struct dp_eal_mem_plan p;
	for (const char *o : { "--no-huge", "--in-memory", "--socket-mem=512", "--huge-dir=/x" }) {
		EXPECT_EQ(PlanArgs({ "-m", "512", o }).Plan(256, 0, &p), 0) << o;
		EXPECT_FALSE(p.add_no_huge) << o;
	}
}

TEST(DpEalMemPlan, DashM_NotANumber_EINVAL)
{
	struct dp_eal_mem_plan p;
	EXPECT_EQ(PlanArgs({ "-m", "lots" }).Plan(256, 0, &p), -EINVAL);
	EXPECT_EQ(PlanArgs({ "-m" }).Plan(256, 0, &p), -EINVAL);
	EXPECT_EQ(PlanArgs({ "-m", "512x" }).Plan(256, 0, &p), -EINVAL);
}
