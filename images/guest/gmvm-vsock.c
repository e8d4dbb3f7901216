// SPDX-License-Identifier: MIT
/*
 * gmvm-vsock: the Linux test guest's AF_VSOCK helper (static; built by
 * images/build-initramfs.sh).
 *
 *   gmvm-vsock listen PORT      echo every connection to PORT, one process
 *                               each; a connection whose first line is
 *                               "urandom" gets 16 bytes of /dev/urandom in
 *                               hex and a newline instead
 *   gmvm-vsock tcp-listen PORT  the same on TCP (the benchmark's peer)
 *   gmvm-vsock agent PORT       a guest agent: connect to the host (CID 2)
 *                               PORT, say "agent N" (N counts connections),
 *                               read the line back (and create
 *                               /tmp/gmvm-vsock-agent.N), then wait; when
 *                               the connection ends (a restore resets it),
 *                               do it again
 *
 * Messages go to stderr, prefixed "gmvm-vsock: ".
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * linux/vm_sockets.h's address, here so that the program builds against
 * any C library (musl's headers have no linux/).
 */
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#define VMADDR_CID_ANY 0xffffffffu
#define VMADDR_CID_HOST 2

struct sockaddr_vm {
	sa_family_t svm_family;
	unsigned short svm_reserved1;
	unsigned int svm_port;
	unsigned int svm_cid;
	unsigned char svm_flags;
	unsigned char svm_zero[3];
};

static __attribute__((format(printf, 1, 2))) void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "gmvm-vsock: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* 16 random bytes as hex, for a clone to show what its generator gives. */
static void send_urandom(int fd)
{
	unsigned char b[16];
	char hex[34];
	int r = open("/dev/urandom", O_RDONLY);

	if (r < 0 || read(r, b, sizeof(b)) != sizeof(b))
		return;
	close(r);
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", b[i]);
	hex[32] = '\n';
	write_all(fd, hex, 33);
}

static void serve(int fd)
{
	static char buf[65536];
	ssize_t n;
	int first = 1;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (first && n == 8 && !memcmp(buf, "urandom\n", 8)) {
			send_urandom(fd);
			break;
		}
		first = 0;
		if (write_all(fd, buf, n))
			break;
	}
	close(fd);
}

static int cmd_listen(int port, int tcp)
{
	struct sockaddr_vm vm = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
				  .svm_port = port };
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, fd = socket(tcp ? AF_INET : AF_VSOCK, SOCK_STREAM, 0);

	if (fd < 0) {
		say("%s: socket: %s", tcp ? "tcp" : "vsock", strerror(errno));
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (tcp ? bind(fd, (struct sockaddr *)&in, sizeof(in)) :
		  bind(fd, (struct sockaddr *)&vm, sizeof(vm))) {
		say("%s: bind: %s", tcp ? "tcp" : "vsock", strerror(errno));
		return 1;
	}
	if (listen(fd, 128)) {
		say("%s: listen: %s", tcp ? "tcp" : "vsock", strerror(errno));
		return 1;
	}
	say("%s: listening on port %d", tcp ? "tcp" : "vsock", port);
	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		int c = accept(fd, NULL, NULL);

		if (c < 0) {
			if (errno == EINTR)
				continue;
			say("%s: accept: %s", tcp ? "tcp" : "vsock", strerror(errno));
			return 1;
		}
		if (tcp)
			setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (fork() == 0) {
			close(fd);
			serve(c);
			_exit(0);
		}
		close(c);
	}
}

static __attribute__((noreturn)) void cmd_agent(int port)
{
	struct sockaddr_vm host = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST,
				    .svm_port = port };
	char line[64], back[64];
	long n = 0, wait_ms = 100;

	for (;;) {
		int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
		ssize_t len, got = 0, r;

		if (fd < 0 || connect(fd, (struct sockaddr *)&host, sizeof(host))) {
			if (fd >= 0)
				close(fd);
			/* Nobody there: try again, less and less often. */
			usleep(wait_ms * 1000);
			if (wait_ms < 3200)
				wait_ms *= 2;
			continue;
		}
		wait_ms = 100;
		len = snprintf(line, sizeof(line), "agent %ld\n", ++n);
		if (write_all(fd, line, len) == 0) {
			while (got < len && (r = read(fd, back + got, len - got)) > 0)
				got += r;
			if (got == len && !memcmp(back, line, len)) {
				say("agent: connection %ld echoed", n);
				/* For /init, which may wait for the first one. */
				snprintf(line, sizeof(line), "/tmp/gmvm-vsock-agent.%ld", n);
				close(open(line, O_WRONLY | O_CREAT, 0644));
			}
			/* Until it ends: a restore resets it. */
			while (read(fd, back, sizeof(back)) > 0)
				;
			say("agent: connection %ld ended", n);
		}
		close(fd);
	}
}

int main(int argc, char **argv)
{
	setvbuf(stderr, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc == 3 && !strcmp(argv[1], "listen"))
		return cmd_listen(atoi(argv[2]), 0);
	if (argc == 3 && !strcmp(argv[1], "tcp-listen"))
		return cmd_listen(atoi(argv[2]), 1);
	if (argc == 3 && !strcmp(argv[1], "agent"))
		cmd_agent(atoi(argv[2]));
	fprintf(stderr, "usage: gmvm-vsock listen|tcp-listen|agent PORT\n");
	return 2;
}
