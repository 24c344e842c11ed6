/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_connrate - the Linux anchor for connections per second: the same load
 * that echo's --bench conn puts on riptide (connect, close, again, one at a
 * time), on Linux's own TCP, so that scripts/bench/tcp.sh compares like with
 * like. No standard tool measures exactly this.
 *
 *   tcp_connrate server PORT           accept, read to EOF, close; forever
 *   tcp_connrate client ADDR PORT S    connect and close for S seconds
 *
 * The client closes first, as riptide's does, so TIME_WAIT lands on the
 * client; net.ipv4.tcp_tw_reuse (default 2: loopback) lets it reuse ports.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
serve(int port)
{
	struct sockaddr_in a;
	int one = 1, ls = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_ANY);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(ls, 1024) != 0) {
		perror("tcp_connrate: bind/listen");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		char buf[256];
		int c = accept(ls, NULL, NULL);

		if (c < 0)
			continue;
		while (read(c, buf, sizeof(buf)) > 0)
			;
		close(c);
	}
}

static int
client(const char *addr, int port, double secs)
{
	struct sockaddr_in a;
	double start = now_s(), end = start + secs, t;
	unsigned long n = 0, failed = 0;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
		fprintf(stderr, "tcp_connrate: bad address %s\n", addr);
		return 2;
	}
	do {
		int s = socket(AF_INET, SOCK_STREAM, 0);

		if (s >= 0 && connect(s, (struct sockaddr *)&a, sizeof(a)) == 0)
			n++;
		else
			failed++;
		if (s >= 0)
			close(s);
		t = now_s();
	} while (t < end);
	printf("tcp_connrate: %lu connections in %.2f s, %.0f per second (%lu failed)\n", n,
			t - start, (double)n / (t - start), failed);
	return failed > n / 100 ? 1 : 0;
}

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 3 && strcmp(argv[1], "server") == 0)
		return serve(atoi(argv[2]));
	if (argc == 5 && strcmp(argv[1], "client") == 0)
		return client(argv[2], atoi(argv[3]), atof(argv[4]));
	fprintf(stderr, "Usage: tcp_connrate server PORT | tcp_connrate client ADDR PORT SECONDS\n");
	return argc == 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
}
