// SPDX-License-Identifier: MIT
/*
 * The host's side of gmvm's virtio-vsock, for tests/bats/vsock.bats and
 * bench/vsock.sh: Firecracker's hybrid-vsock protocol spoken from the host.
 *
 *   vsock_peer echo UDS PORT CONNS BYTES
 *       CONNS connections at once to the guest's PORT ("CONNECT PORT\n",
 *       "OK <n>\n"); each sends BYTES of its own pattern and checks that the
 *       same bytes come back, byte for byte
 *   vsock_peer refused UDS PORT
 *       CONNECT to a port: gmvm must close the socket without an OK
 *   vsock_peer vanish UDS PORT BYTES
 *       connect, send up to BYTES (what is taken within a second) and
 *       close without reading a byte
 *   vsock_peer stall UDS PORT
 *       connect and write, never blocking, until nothing more is taken for
 *       2 s: prints how much was
 *   vsock_peer serve PATH N [noread]
 *       listen on PATH (a guest's connections to CID 2 port P arrive at
 *       UDS_P) and echo N connections, or with noread take them and read
 *       nothing until they end
 *   vsock_peer hold UDS N
 *       N connections to UDS that never say CONNECT: how many gmvm closed
 *       at once (beyond its cap) and how long it kept the others
 *   (UDS "tcp:ADDR" in pingpong and stream: TCP to ADDR:PORT instead)
 *   vsock_peer pingpong UDS PORT COUNT
 *       COUNT one-byte round trips through a guest echo server: the
 *       median and 99th percentile in microseconds
 *   vsock_peer stream UDS PORT SECONDS
 *       send for SECONDS to a guest echo server, reading back meanwhile:
 *       MB/s of what came back
 *
 * Exits 0 when all went as expected, 1 (saying what) otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 256
#define CHUNK 65536

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ull + ts.tv_nsec / 1000;
}

static uint8_t pattern(uint64_t i, uint32_t seed)
{
	uint64_t x = (i / 8 + seed) * 0x9e3779b97f4a7c15ull;

	return (uint8_t)(x >> ((i % 8) * 8));
}

static __attribute__((format(printf, 1, 2), noreturn)) void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "vsock_peer: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static int uds_connect(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die("cannot connect to %s", path);
	return fd;
}

/* Read the reply line: the host port from "OK <n>\n", or -1 (closed, else). */
static long read_ok(int fd, int timeout_ms)
{
	char line[64];
	size_t n = 0;

	while (n < sizeof(line) - 1) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t got;

		if (poll(&p, 1, timeout_ms) <= 0)
			return -2;
		got = read(fd, line + n, 1);
		if (got <= 0)
			return -1;
		if (line[n++] == '\n')
			break;
	}
	line[n] = '\0';
	if (strncmp(line, "OK ", 3))
		return -1;
	return strtol(line + 3, NULL, 10);
}

/* TCP to addr:port, no delay: the benchmark's other transport. */
static int tcp_connect(const char *addr, const char *port)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(atoi(port)) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || inet_pton(AF_INET, addr, &in.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&in, sizeof(in)) < 0)
		die("cannot connect to %s:%s: %s", addr, port, strerror(errno));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/*
 * A connection to the guest's port through gmvm, or -1 refused; with
 * UDS "tcp:ADDR", a TCP connection to ADDR:PORT instead.
 */
static int hybrid_connect(const char *uds, const char *port, long *host_port)
{
	int fd;
	char req[64];
	int n = snprintf(req, sizeof(req), "CONNECT %s\n", port);
	long ok;

	if (!strncmp(uds, "tcp:", 4))
		return tcp_connect(uds + 4, port);
	fd = uds_connect(uds);

	if (write(fd, req, n) != n)
		die("cannot write to %s", uds);
	ok = read_ok(fd, 10000);
	if (ok == -2)
		die("no answer to CONNECT %s in 10 s", port);
	if (ok < 0) {
		close(fd);
		return -1;
	}
	if (host_port)
		*host_port = ok;
	return fd;
}

struct echo_conn {
	int fd;
	uint64_t sent, got;
	bool done;
};

static int cmd_echo(const char *uds, const char *port, int conns, uint64_t bytes)
{
	static struct echo_conn c[MAX_CONNS];
	static struct pollfd p[MAX_CONNS];
	static uint8_t buf[CHUNK];
	uint64_t last = now_ms(), start = now_ms(), bad = 0;
	int left = conns;

	if (conns < 1 || conns > MAX_CONNS)
		die("CONNS must be 1 to 256, not %d", conns);
	for (int i = 0; i < conns; i++) {
		long hp;

		c[i].fd = hybrid_connect(uds, port, &hp);
		if (c[i].fd < 0)
			die("CONNECT %s was refused", port);
		fcntl(c[i].fd, F_SETFL, O_NONBLOCK);
	}
	while (left) {
		for (int i = 0; i < conns; i++) {
			p[i] = (struct pollfd){ c[i].done ? -1 : c[i].fd, POLLIN, 0 };
			if (c[i].sent < bytes)
				p[i].events |= POLLOUT;
		}
		if (poll(p, conns, 1000) < 0)
			die("poll: %s", strerror(errno));
		for (int i = 0; i < conns; i++) {
			struct echo_conn *e = &c[i];
			ssize_t n;

			if (e->done)
				continue;
			if ((p[i].revents & POLLOUT) && e->sent < bytes) {
				size_t len = bytes - e->sent < CHUNK ? bytes - e->sent : CHUNK;

				for (size_t k = 0; k < len; k++)
					buf[k] = pattern(e->sent + k, i);
				n = write(e->fd, buf, len);
				if (n > 0) {
					e->sent += n;
					last = now_ms();
				}
			}
			if (p[i].revents & (POLLIN | POLLHUP | POLLERR)) {
				n = read(e->fd, buf, sizeof(buf));
				if (n <= 0 && !(n < 0 && errno == EAGAIN)) {
					fprintf(stderr, "vsock_peer: connection %d ended after %llu of %llu bytes echoed\n",
						i, (unsigned long long)e->got,
						(unsigned long long)bytes);
					return 1;
				}
				for (ssize_t k = 0; k < n; k++)
					bad += buf[k] != pattern(e->got + k, i);
				if (n > 0) {
					e->got += n;
					last = now_ms();
				}
			}
			if (e->got >= bytes) {
				e->done = true;
				close(e->fd);
				left--;
			}
		}
		if (now_ms() - last > 30000) {
			fprintf(stderr, "vsock_peer: no progress for 30 s, %d connections not done\n",
				left);
			return 1;
		}
	}
	printf("echo: %d connections, %llu bytes each, echoed with %llu wrong bytes in %.1f s\n",
	       conns, (unsigned long long)bytes, (unsigned long long)bad,
	       (now_ms() - start) / 1000.0);
	return bad ? 1 : 0;
}

static int cmd_refused(const char *uds, const char *port)
{
	int fd = hybrid_connect(uds, port, NULL);

	if (fd >= 0) {
		printf("refused: CONNECT %s was ACCEPTED\n", port);
		return 1;
	}
	printf("refused: CONNECT %s closed without OK\n", port);
	return 0;
}

static int cmd_vanish(const char *uds, const char *port, uint64_t bytes)
{
	static uint8_t buf[CHUNK];
	int fd = hybrid_connect(uds, port, NULL);
	uint64_t sent = 0;

	if (fd < 0)
		die("CONNECT %s was refused", port);
	memset(buf, 'v', sizeof(buf));
	/* Never blocking: an echo nobody reads fills every buffer on the way. */
	fcntl(fd, F_SETFL, O_NONBLOCK);
	for (uint64_t last = now_ms(); sent < bytes && now_ms() - last < 1000;) {
		ssize_t n = write(fd, buf, bytes - sent < CHUNK ? bytes - sent : CHUNK);

		if (n > 0) {
			sent += n;
			last = now_ms();
		} else {
			usleep(10000);
		}
	}
	close(fd);
	printf("vanish: sent %llu bytes and closed\n", (unsigned long long)sent);
	return 0;
}

static int cmd_stall(const char *uds, const char *port)
{
	static uint8_t buf[CHUNK];
	int fd = hybrid_connect(uds, port, NULL);
	uint64_t sent = 0, last = now_ms();

	if (fd < 0)
		die("CONNECT %s was refused", port);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	memset(buf, 's', sizeof(buf));
	while (now_ms() - last < 2000) {
		ssize_t n = write(fd, buf, sizeof(buf));

		if (n > 0) {
			sent += n;
			last = now_ms();
		} else {
			usleep(10000);
		}
		if (sent > (1ull << 30))
			break;
	}
	printf("stall: %llu bytes taken before writes blocked for 2 s\n",
	       (unsigned long long)sent);
	close(fd);
	return 0;
}

static int cmd_serve(const char *path, int n, bool noread)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	static uint8_t buf[CHUNK];
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	unlink(path);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(lfd, 16) < 0)
		die("cannot listen on %s", path);
	printf("serve: listening on %s\n", path);
	fflush(stdout);
	for (int i = 0; i < n; i++) {
		int fd = accept(lfd, NULL, NULL);
		uint64_t total = 0;
		ssize_t got;

		if (fd < 0)
			die("accept on %s failed", path);
		if (noread) {
			struct pollfd p = { fd, POLLRDHUP, 0 };

			/* Until the guest's side ends (RST closes the socket). */
			while (poll(&p, 1, -1) == 1 && !(p.revents & (POLLHUP | POLLRDHUP)))
				;
			printf("serve: connection %d ended, nothing read\n", i + 1);
			close(fd);
			continue;
		}
		while ((got = read(fd, buf, sizeof(buf))) > 0) {
			ssize_t put = 0;

			while (put < got) {
				ssize_t w = write(fd, buf + put, got - put);

				if (w <= 0)
					break;
				put += w;
			}
			total += got;
		}
		printf("serve: connection %d: %llu bytes echoed\n", i + 1,
		       (unsigned long long)total);
		fflush(stdout);
		close(fd);
	}
	close(lfd);
	unlink(path);
	return 0;
}

/* Closed by the other end (EOF or error), without blocking. */
static bool peer_closed(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char b;

	return poll(&p, 1, 0) == 1 && recv(fd, &b, 1, MSG_DONTWAIT) <= 0;
}

static int cmd_hold(const char *uds, int n)
{
	static int fd[1024];
	uint64_t start;
	int open = 0;

	if (n < 1 || n > 1024)
		die("N must be 1 to 1024, not %d", n);
	for (int i = 0; i < n; i++)
		fd[i] = uds_connect(uds);
	usleep(500000);
	for (int i = 0; i < n; i++)
		open += !peer_closed(fd[i]);
	printf("hold: %d of %d connections kept, %d closed at once\n", open, n, n - open);
	start = now_ms();
	while (open && now_ms() - start < 10000) {
		usleep(100000);
		open = 0;
		for (int i = 0; i < n; i++)
			open += !peer_closed(fd[i]);
	}
	printf("hold: %s after %.1f s more\n", open ? "some still open" : "all closed",
	       (now_ms() - start) / 1000.0);
	return open ? 1 : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmd_pingpong(const char *uds, const char *port, int count)
{
	int fd = hybrid_connect(uds, port, NULL);
	uint64_t *us = calloc(count, sizeof(*us));
	char b = 'p';

	if (fd < 0 || !us)
		die("CONNECT %s was refused", port);
	for (int i = 0; i < count; i++) {
		uint64_t t = now_us();

		if (write(fd, &b, 1) != 1 || read(fd, &b, 1) != 1)
			die("round trip on %s failed", port);
		us[i] = now_us() - t;
	}
	qsort(us, count, sizeof(*us), cmp_u64);
	printf("pingpong: %d round trips, p50 %llu us, p99 %llu us\n", count,
	       (unsigned long long)us[count / 2],
	       (unsigned long long)us[count * 99 / 100]);
	close(fd);
	return 0;
}

static int cmd_stream(const char *uds, const char *port, int seconds)
{
	static uint8_t buf[CHUNK];
	int fd = hybrid_connect(uds, port, NULL);
	uint64_t start = now_ms(), got = 0;
	bool sending = true;

	if (fd < 0)
		die("CONNECT %s was refused", port);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	memset(buf, 'b', sizeof(buf));
	for (;;) {
		struct pollfd p = { fd, POLLIN | (sending ? POLLOUT : 0), 0 };
		ssize_t n;

		if (poll(&p, 1, 5000) <= 0)
			break;
		if (sending && now_ms() - start >= seconds * 1000ull) {
			shutdown(fd, SHUT_WR);
			sending = false;
		}
		if (sending && (p.revents & POLLOUT))
			(void)!write(fd, buf, sizeof(buf));
		if (p.revents & (POLLIN | POLLHUP)) {
			n = read(fd, buf, sizeof(buf));
			if (n <= 0 && !(n < 0 && errno == EAGAIN))
				break;
			if (n > 0)
				got += n;
		}
	}
	printf("stream: %.1f MB/s echoed (%llu bytes in %.2f s)\n",
	       got / 1e6 / ((now_ms() - start) / 1000.0), (unsigned long long)got,
	       (now_ms() - start) / 1000.0);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 6 && !strcmp(argv[1], "echo"))
		return cmd_echo(argv[2], argv[3], atoi(argv[4]), strtoull(argv[5], NULL, 0));
	if (argc == 4 && !strcmp(argv[1], "refused"))
		return cmd_refused(argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "vanish"))
		return cmd_vanish(argv[2], argv[3], strtoull(argv[4], NULL, 0));
	if (argc == 4 && !strcmp(argv[1], "stall"))
		return cmd_stall(argv[2], argv[3]);
	if ((argc == 4 || (argc == 5 && !strcmp(argv[4], "noread"))) &&
	    !strcmp(argv[1], "serve"))
		return cmd_serve(argv[2], atoi(argv[3]), argc == 5);
	if (argc == 4 && !strcmp(argv[1], "hold"))
		return cmd_hold(argv[2], atoi(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "pingpong"))
		return cmd_pingpong(argv[2], argv[3], atoi(argv[4]));
	if (argc == 5 && !strcmp(argv[1], "stream"))
		return cmd_stream(argv[2], argv[3], atoi(argv[4]));
	fprintf(stderr, "usage: vsock_peer echo|refused|vanish|stall|serve|hold|pingpong|stream ... (see the source)\n");
	return 2;
}
