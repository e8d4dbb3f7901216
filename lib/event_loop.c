// SPDX-License-Identifier: MIT
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "event_loop.h"
#include "util.h"

int event_loop_init(struct event_loop *loop)
{
	loop->stop = false;
	loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	return loop->epoll_fd < 0 ? -errno : 0;
}

void event_loop_destroy(struct event_loop *loop)
{
	if (loop->epoll_fd >= 0)
		close(loop->epoll_fd);
	loop->epoll_fd = -1;
}

static int event_loop_ctl(struct event_loop *loop, int op,
			  struct event_source *src, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	return epoll_ctl(loop->epoll_fd, op, src->fd, &ev) < 0 ? -errno : 0;
}

int event_loop_add(struct event_loop *loop, struct event_source *src,
		   uint32_t events)
{
	return event_loop_ctl(loop, EPOLL_CTL_ADD, src, events);
}

int event_loop_modify(struct event_loop *loop, struct event_source *src,
		      uint32_t events)
{
	return event_loop_ctl(loop, EPOLL_CTL_MOD, src, events);
}

void event_loop_remove(struct event_loop *loop, struct event_source *src)
{
	epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, src->fd, NULL);
}

int event_loop_run(struct event_loop *loop)
{
	struct epoll_event evs[16];

	while (!loop->stop) {
		int n = epoll_wait(loop->epoll_fd, evs, ARRAY_SIZE(evs), -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (int i = 0; i < n && !loop->stop; i++) {
			struct event_source *src = evs[i].data.ptr;

			src->handler(src, evs[i].events);
		}
	}
	return 0;
}

void event_loop_stop(struct event_loop *loop)
{
	loop->stop = true;
}
