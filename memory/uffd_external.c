// SPDX-License-Identifier: MIT
/*
 * Handing guest RAM's page faults to an external process: the userfaultfd
 * goes over a UNIX socket with SCM_RIGHTS, together with one JSON array that
 * describes each region as Firecracker's page-fault handlers expect it:
 * [{"base_host_virt_addr": H, "size": S, "offset": O, "page_size": 4096}],
 * where O is the region's offset in the snapshot memory file.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "guest_mem.h"
#include "uffd.h"
#include "util.h"

static char *uffd_layout_json(const struct guest_mem *mem)
{
	json_object *arr = json_object_new_array();
	char *text;

	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		const struct guest_mem_region *r = &mem->regions[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "base_host_virt_addr",
				       json_object_new_uint64((uintptr_t)(mem->base + r->offset)));
		json_object_object_add(o, "size", json_object_new_uint64(r->size));
		json_object_object_add(o, "offset", json_object_new_uint64(r->offset));
		json_object_object_add(o, "page_size", json_object_new_uint64(PAGE_SIZE));
		json_object_array_add(arr, o);
	}
	text = strdup(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(arr);
	return text;
}

static int uffd_send(int sock, int uffd, const char *text)
{
	char ctl[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { (void *)text, strlen(text) };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl,
		.msg_controllen = sizeof(ctl),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	ssize_t n;

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &uffd, sizeof(int));
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == iov.iov_len ? 0 : -EIO;
}

static int uffd_connect(const char *path, uint64_t timeout_ns, struct err *e)
{
	struct timeval tv = {
		.tv_sec = timeout_ns / 1000000000ull,
		.tv_usec = timeout_ns % 1000000000ull / 1000,
	};
	struct sockaddr_un addr;
	int sock = unix_socket(path, "--uffd-socket", 0, &addr, e);

	if (sock < 0)
		return sock;
	/* A full backlog (a handler that never accepts) blocks connect(). */
	setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int ret = err_set(e, errno, "--uffd-socket %s: %s", path,
				  errno == EAGAIN ? "the handler does not accept connections" :
				  strerror(errno));

		close(sock);
		return ret;
	}
	return sock;
}

int uffd_external_handoff(const struct guest_mem *mem, const char *path,
			  uint64_t timeout_ns, int *uffd, struct err *e)
{
	char *text;
	int sock, ret;

	*uffd = uffd_register_guest_mem(mem, e);
	if (*uffd < 0)
		return *uffd;
	sock = uffd_connect(path, timeout_ns, e);
	if (sock < 0)
		goto fail_uffd;
	text = uffd_layout_json(mem);
	ret = text ? uffd_send(sock, *uffd, text) : -ENOMEM;
	free(text);
	if (ret) {
		err_set(e, -ret, "--uffd-socket %s: cannot send the userfaultfd: %s",
			path, strerror(-ret));
		close(sock);
		sock = ret;
		goto fail_uffd;
	}
	return sock;
fail_uffd:
	close(*uffd);
	*uffd = -1;
	return sock;
}
