// SPDX-License-Identifier: BSD-3-Clause
//
// ut_main.cc - the one gtest main of every unit-test binary: starts the EAL
// once, with no hugepages, no PCI, a small memory budget and a file prefix
// unique to this process, so unit tests run on any machine, in parallel.
//
// Extra EAL arguments can be given after "--eal": ./executor_unit --eal -l 0-1
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <cstring>
#include <string>
#include <vector>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

int
main(int argc, char **argv)
{
	testing::InitGoogleTest(&argc, argv);

	std::string prefix = "--file-prefix=riptide-ut-" + std::to_string(getpid());
	std::vector<std::string> eal = { argv[0], "--no-huge", "--no-pci", "--no-shconf", "-m",
		"256", "-l", "0-1", "--log-level=lib.eal:error", "--no-telemetry", prefix };
	for (int i = 1; i < argc; i++) {
		if (std::strcmp(argv[i], "--eal") == 0) {
			for (int j = i + 1; j < argc; j++)
				eal.push_back(argv[j]);
			break;
		}
	}
	std::vector<char *> eal_argv;
	for (auto &s : eal)
		eal_argv.push_back(&s[0]);
	if (rte_eal_init((int)eal_argv.size(), eal_argv.data()) < 0) {
		std::fprintf(stderr, "ut_main: rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	int rc = RUN_ALL_TESTS();
	rte_eal_cleanup();
	// The EAL leaves its runtime directory behind even with --no-shconf.
	std::error_code ec;
	std::filesystem::remove_all("/var/run/dpdk/riptide-ut-" + std::to_string(getpid()), ec);
	return rc;
}
