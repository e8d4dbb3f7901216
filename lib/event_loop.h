/* SPDX-License-Identifier: MIT */
/* The main thread's epoll loop. */
#ifndef GMVM_EVENT_LOOP_H
#define GMVM_EVENT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct event_source;

/* Called on the main thread with the epoll events that fired. */
typedef void (*event_handler_fn)(struct event_source *src, uint32_t events);

/* Owned by whoever registers it; must outlive its registration. */
struct event_source {
	int fd;
	event_handler_fn handler;
	void *opaque;
};

struct event_loop {
	int epoll_fd;
	bool stop;
};

int event_loop_init(struct event_loop *loop);
void event_loop_destroy(struct event_loop *loop);

/* Watch src->fd for events (EPOLLIN, ...). Returns 0 or -errno. */
int event_loop_add(struct event_loop *loop, struct event_source *src,
		   uint32_t events);
/* Change what src waits for; safe from any thread. Returns 0 or -errno. */
int event_loop_modify(struct event_loop *loop, struct event_source *src,
		      uint32_t events);
void event_loop_remove(struct event_loop *loop, struct event_source *src);

/* Serve events until event_loop_stop() is called from a handler. */
int event_loop_run(struct event_loop *loop);
void event_loop_stop(struct event_loop *loop);

#endif /* GMVM_EVENT_LOOP_H */
