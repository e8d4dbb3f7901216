// SPDX-License-Identifier: MIT
/*
 * A minimal external page-fault handler for tests, speaking the protocol of
 * `gmvm restore --uffd-socket` (Firecracker's): it listens on SOCKET,
 * receives the userfaultfd with SCM_RIGHTS and a JSON array of
 * {base_host_virt_addr, size, offset, page_size}, and serves every fault
 * with one page copied from MEMORY_FILE at the region's offset. It exits
 * when gmvm goes away and prints how many faults it served.
 *
 * usage: uffd_ext_handler [--misbehave HOW] SOCKET MEMORY_FILE
 *
 * HOW makes it a broken handler, for gmvm's fault watchdog to catch (each
 * waits until gmvm goes away):
 *   never-accept   listen, never accept the connection
 *   full-backlog   listen with a backlog already full: connect() blocks
 *   no-answer      take the userfaultfd, read a fault, never serve it
 *   garbage        take it, write garbage on the socket, serve nothing
 *   close-uffd     take it and close it, keep the socket
 *   shut-read      take it, shut the socket's read side, serve nothing
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_REGIONS 8

struct region {
	uint64_t base, size, offset, page_size;
};

static struct region regions[MAX_REGIONS];
static unsigned int nr_regions;

static void die(const char *what)
{
	fprintf(stderr, "uffd_ext_handler: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int listen_on(const char *path, int backlog)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd < 0 || strlen(path) >= sizeof(addr.sun_path))
		die("socket");
	strcpy(addr.sun_path, path);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(fd, backlog) < 0)
		die("bind");
	return fd;
}

/* A connection of our own that fills a backlog of 0. */
static void fill_backlog(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strcpy(addr.sun_path, path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die("connect");
}

static int receive(int conn, char *buf, size_t size)
{
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { buf, size - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c;
	ssize_t n = recvmsg(conn, &msg, 0);
	int fd;

	if (n <= 0)
		die("recvmsg");
	buf[n] = '\0';
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS) {
		fprintf(stderr, "uffd_ext_handler: no file descriptor received\n");
		exit(1);
	}
	memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	return fd;
}

static uint64_t get(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v)) {
		fprintf(stderr, "uffd_ext_handler: region without \"%s\"\n", key);
		exit(1);
	}
	return json_object_get_uint64(v);
}

static void parse_regions(const char *text)
{
	json_object *arr = json_tokener_parse(text);

	if (!arr || !json_object_is_type(arr, json_type_array)) {
		fprintf(stderr, "uffd_ext_handler: not a JSON array: %s\n", text);
		exit(1);
	}
	for (size_t i = 0; i < json_object_array_length(arr) && i < MAX_REGIONS; i++) {
		json_object *o = json_object_array_get_idx(arr, i);

		regions[nr_regions++] = (struct region){ get(o, "base_host_virt_addr"),
			get(o, "size"), get(o, "offset"), get(o, "page_size") };
	}
	json_object_put(arr);
}

static void serve(int uffd, const uint8_t *file, uint64_t file_size,
		  uint64_t addr)
{
	for (unsigned int i = 0; i < nr_regions; i++) {
		const struct region *r = &regions[i];
		uint64_t page = addr & ~(r->page_size - 1), off;
		struct uffdio_copy c;

		if (addr < r->base || addr >= r->base + r->size)
			continue;
		off = r->offset + (page - r->base);
		if (off + r->page_size > file_size) {
			fprintf(stderr, "uffd_ext_handler: page %#llx beyond the file\n",
				(unsigned long long)off);
			exit(1);
		}
		c = (struct uffdio_copy){ page, (uintptr_t)(file + off), r->page_size, 0, 0 };
		if (ioctl(uffd, UFFDIO_COPY, &c) == 0)
			return;
		/*
		 * EEXIST: there already. EAGAIN: the mapping is changing (a
		 * balloon's UFFD_EVENT_REMOVE we have not read yet): wake the
		 * faulting thread, which faults again once we have read it.
		 */
		if (errno == EEXIST || errno == EAGAIN) {
			struct uffdio_range w = { page, r->page_size };

			ioctl(uffd, UFFDIO_WAKE, &w);
			return;
		}
		die("UFFDIO_COPY");
	}
	fprintf(stderr, "uffd_ext_handler: fault at %#llx outside every region\n",
		(unsigned long long)addr);
	exit(1);
}

/* Wait until gmvm closes its end of conn (or for ever, without one). */
static void wait_for_gmvm(int conn, const char *path)
{
	char buf[64];

	if (conn < 0)
		for (;;)
			pause();
	while (read(conn, buf, sizeof(buf)) > 0)
		;
	unlink(path);
	exit(0);
}

static void misbehave(const char *how, int lfd, const char *path)
{
	char text[4096], buf[64];
	struct uffd_msg msg;
	int conn, uffd;

	if (!strcmp(how, "never-accept") || !strcmp(how, "full-backlog"))
		wait_for_gmvm(-1, path);
	conn = accept(lfd, NULL, NULL);
	if (conn < 0)
		die("accept");
	uffd = receive(conn, text, sizeof(text));
	if (!strcmp(how, "no-answer")) {
		struct pollfd p = { uffd, POLLIN, 0 };

		/*
		 * Read the first fault, answer none, until gmvm's end closes
		 * (reading on would race gmvm's watchdog for the fault it
		 * makes happen again to name it).
		 */
		fcntl(conn, F_SETFL, O_NONBLOCK);
		for (bool taken = false;;) {
			if (!taken && poll(&p, 1, 100) > 0)
				taken = read(uffd, &msg, sizeof(msg)) == sizeof(msg);
			else
				usleep(100 * 1000);
			if (read(conn, buf, sizeof(buf)) == 0) {
				unlink(path);
				exit(0);
			}
		}
	} else if (!strcmp(how, "garbage")) {
		static const char junk[] = "\xff\xfe{not json at all\n\x01";

		for (int i = 0; i < 100; i++)
			(void)!write(conn, junk, sizeof(junk));
	} else if (!strcmp(how, "close-uffd")) {
		close(uffd);
	} else if (!strcmp(how, "shut-read")) {
		shutdown(conn, SHUT_RD);
		for (;;)
			pause();
	} else {
		fprintf(stderr, "uffd_ext_handler: unknown --misbehave '%s'\n", how);
		exit(2);
	}
	wait_for_gmvm(conn, path);
}

int main(int argc, char **argv)
{
	char text[4096];
	unsigned long faults = 0;
	const uint8_t *file;
	struct stat st;
	int lfd, conn, uffd, mfd;

	const char *how = NULL;

	if (argc == 5 && !strcmp(argv[1], "--misbehave")) {
		how = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: uffd_ext_handler [--misbehave HOW] SOCKET MEMORY_FILE\n");
		return 2;
	}
	mfd = open(argv[2], O_RDONLY);
	if (mfd < 0 || fstat(mfd, &st) < 0)
		die(argv[2]);
	file = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, mfd, 0);
	if (file == MAP_FAILED)
		die("mmap");
	if (how) {
		bool full = !strcmp(how, "full-backlog");

		lfd = listen_on(argv[1], full ? 0 : 1);
		if (full)
			fill_backlog(argv[1]);
		misbehave(how, lfd, argv[1]);
	}
	lfd = listen_on(argv[1], 1);
	conn = accept(lfd, NULL, NULL);
	if (conn < 0)
		die("accept");
	uffd = receive(conn, text, sizeof(text));
	parse_regions(text);
	for (;;) {
		struct pollfd p[2] = { { uffd, POLLIN, 0 }, { conn, POLLIN, 0 } };
		struct uffd_msg msg;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			die("poll");
		if (p[1].revents)	/* gmvm closed its end: done */
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		if (read(uffd, &msg, sizeof(msg)) != sizeof(msg))
			continue;
		if (msg.event == UFFD_EVENT_PAGEFAULT) {
			serve(uffd, file, st.st_size, msg.arg.pagefault.address);
			faults++;
		}
	}
	printf("uffd_ext_handler: served %lu faults\n", faults);
	unlink(argv[1]);
	return 0;
}
