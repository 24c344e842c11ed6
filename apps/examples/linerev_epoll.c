/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * linerev_epoll.c - the comparison for linerev.c: the same program on Linux
 * sockets and epoll. A TCP server answering each line with the line
 * reversed, many connections at once, plus UDP echo on the same port; SIGINT
 * stops it cleanly. Lines over 1023 bytes reset the connection.
 *
 *   linerev_epoll PORT
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define LINE_CAP 1024

struct conn {
	int fd;
	char in[LINE_CAP];
	size_t have;
	char *out; /* answers not yet written */
	size_t out_len, out_off;
	int eof;
};

static int ep;

static int
open_socket(int type, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, fd = socket(AF_INET, type | SOCK_NONBLOCK, 0);

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
			(type == SOCK_STREAM && listen(fd, 128) != 0))
		return -1;
	return fd;
}

static void
watch(int op, int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	epoll_ctl(ep, op, fd, &ev);
}

static void
conn_close(struct conn *c)
{
	close(c->fd);
	free(c->out);
	free(c);
}

/* Write what is pending; false when the connection failed. */
static int
conn_flush(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);

		if (n < 0)
			return errno == EAGAIN;
		c->out_off += (size_t)n;
	}
	c->out_len = c->out_off = 0;
	return 1;
}

/* Answer every whole line in c->in. */
static void
conn_answer(struct conn *c)
{
	char *nl;

	while ((nl = memchr(c->in, '\n', c->have)) != NULL) {
		size_t len = (size_t)(nl - c->in), i;

		if (len > 0 && c->in[len - 1] == '\r')
			len--;
		c->out = realloc(c->out, c->out_len + len + 1);
		for (i = 0; i < len; i++)
			c->out[c->out_len + i] = c->in[len - 1 - i];
		c->out[c->out_len + len] = '\n';
		c->out_len += len + 1;
		c->have -= (size_t)(nl + 1 - c->in);
		memmove(c->in, nl + 1, c->have);
	}
}

/* Read until the socket is empty (edge-triggered), answering as lines come;
 * false when the connection is done: failed, a line too long, or the peer
 * closed and every answer went out. */
static int
conn_serve(struct conn *c)
{
	if (!conn_flush(c))
		return 0;
	while (!c->eof) {
		ssize_t n = read(c->fd, c->in + c->have, sizeof(c->in) - c->have);

		if (n < 0)
			return errno == EAGAIN;
		if (n == 0)
			c->eof = 1;
		c->have += (size_t)n;
		conn_answer(c);
		if (c->have == sizeof(c->in) || !conn_flush(c))
			return 0;
	}
	return c->out_len > 0;
}

int
main(int argc, char **argv)
{
	int tcp, udp, sig, port = argc == 2 ? atoi(argv[1]) : 0;
	struct epoll_event evs[64];
	sigset_t mask;
	int running = 1;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	tcp = open_socket(SOCK_STREAM, port);
	udp = open_socket(SOCK_DGRAM, port);
	sig = signalfd(-1, &mask, SFD_NONBLOCK);
	ep = epoll_create1(0);
	if (port <= 0 || tcp < 0 || udp < 0 || sig < 0 || ep < 0)
		return fprintf(stderr, "usage: linerev_epoll PORT (%s)\n", strerror(errno)), 1;
	watch(EPOLL_CTL_ADD, tcp, EPOLLIN, &tcp);
	watch(EPOLL_CTL_ADD, udp, EPOLLIN, &udp);
	watch(EPOLL_CTL_ADD, sig, EPOLLIN, &sig);
	printf("linerev_epoll: port %d\n", port);
	fflush(stdout);
	while (running) {
		int n = epoll_wait(ep, evs, 64, -1), i;

		for (i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &sig) {
				running = 0;
			} else if (p == &tcp) {
				int fd;

				while ((fd = accept4(tcp, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					struct conn *c = calloc(1, sizeof(*c));

					c->fd = fd;
					watch(EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLOUT | EPOLLET, c);
				}
			} else if (p == &udp) {
				char buf[65536];
				struct sockaddr_in from;
				socklen_t fl = sizeof(from);
				ssize_t len;

				while ((len = recvfrom(udp, buf, sizeof(buf), 0,
							(struct sockaddr *)&from, &fl)) >= 0)
					sendto(udp, buf, (size_t)len, 0, (struct sockaddr *)&from,
							fl);
			} else {
				if (!conn_serve(p))
					conn_close(p);
			}
		}
	}
	close(tcp);
	close(udp);
	printf("linerev_epoll: stopped\n");
	return 0;
}
