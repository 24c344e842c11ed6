// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for dataplane/dp_eal.c. The EAL is already up (ut_main), which
// is itself a case: a second bootstrap must fail cleanly, not exit.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

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
