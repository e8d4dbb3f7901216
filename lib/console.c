// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "console.h"
#include "log.h"
#include "util.h"

#define CTRL_A 0x01

void console_init(struct console *c, enum console_mode mode)
{
	*c = (struct console){
		.mode = mode,
		.in_fd = -1,
		.out_fd = STDOUT_FILENO,
		.in_source.fd = -1,
		.wake_source.fd = -1,
	};
}

void console_set_sink(struct console *c, const struct console_sink *sink)
{
	c->sink = *sink;
}

size_t console_escape_filter(struct console_escape *st, const uint8_t *in,
			     size_t n, uint8_t *out, bool *quit)
{
	size_t o = 0;

	*quit = false;
	for (size_t i = 0; i < n; i++) {
		if (!st->active) {
			out[o++] = in[i];
		} else if (st->pending) {
			st->pending = false;
			if (in[i] == 'x') {
				*quit = true;
				break;
			}
			/* Ctrl-A Ctrl-A is a literal Ctrl-A; others pass. */
			if (in[i] != CTRL_A)
				out[o++] = CTRL_A;
			out[o++] = in[i];
		} else if (in[i] == CTRL_A) {
			st->pending = true;
		} else {
			out[o++] = in[i];
		}
	}
	return o;
}

static void console_read_input(struct console *c);

/* Offer buffered input to the sink; watch stdin only when all was taken. */
static void console_flush_pending(struct console *c)
{
	bool want_input;

	/* A regular file is always readable: read on as the guest drains. */
	if (c->in_is_file && !c->pending_len && !c->in_eof)
		console_read_input(c);
	if (c->pending_len && c->sink.input) {
		size_t took = c->sink.input(c->sink.opaque,
					    c->pending + c->pending_off,
					    c->pending_len);

		c->pending_off += took;
		c->pending_len -= took;
	}
	/*
	 * Off the loop entirely while input waits: epoll reports a hang-up
	 * even with no events asked for, and reading then would overwrite it.
	 */
	want_input = c->pending_len == 0 && c->in_source.fd >= 0;
	if (!c->in_is_file && want_input != c->in_watched) {
		if (want_input)
			event_loop_add(c->loop, &c->in_source, EPOLLIN);
		else
			event_loop_remove(c->loop, &c->in_source);
		c->in_watched = want_input;
	}
}

/* Read what stdin has into pending; false at its end or on Ctrl-A x. */
static void console_read_input(struct console *c)
{
	uint8_t raw[CONSOLE_READ_MAX];
	bool quit;
	ssize_t n;

	n = read(c->in_fd, raw, sizeof(raw));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* End of input: the guest keeps running without it. */
		c->in_eof = true;
		if (c->in_watched)
			event_loop_remove(c->loop, &c->in_source);
		c->in_source.fd = -1;
		c->in_watched = false;
		return;
	}
	c->pending_off = 0;
	c->pending_len = console_escape_filter(&c->escape, raw, n, c->pending,
					       &quit);
	if (quit && c->quit) {
		c->pending_len = 0;
		c->quit(c->quit_opaque);
	}
}

static void console_input_event(struct event_source *src, uint32_t events)
{
	struct console *c = src->opaque;

	(void)events;
	console_read_input(c);
	console_flush_pending(c);
}

static void console_wake_event(struct event_source *src, uint32_t events)
{
	struct console *c = src->opaque;
	uint64_t v;

	(void)events;
	if (read(src->fd, &v, sizeof(v)) < 0)
		return;
	console_flush_pending(c);
}

int console_start(struct console *c, struct event_loop *loop,
		  void (*quit)(void *opaque), void *quit_opaque)
{
	int ret;

	c->loop = loop;
	c->quit = quit;
	c->quit_opaque = quit_opaque;
	if (c->mode == CONSOLE_NONE || c->mode == CONSOLE_OUTPUT)
		return 0;
	c->wake_source = (struct event_source){
		.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK),
		.handler = console_wake_event,
		.opaque = c,
	};
	if (c->wake_source.fd < 0)
		return -errno;
	ret = event_loop_add(loop, &c->wake_source, EPOLLIN);
	if (ret)
		return ret;

	c->in_fd = STDIN_FILENO;
	if (isatty(c->in_fd)) {
		ret = term_raw_begin(c->in_fd);
		if (ret)
			log_warn("cannot put the terminal on stdin in raw mode: %s",
				 strerror(-ret));
		c->escape.active = true;
	}
	c->in_source = (struct event_source){
		.fd = c->in_fd,
		.handler = console_input_event,
		.opaque = c,
	};
	ret = event_loop_add(loop, &c->in_source, EPOLLIN);
	if (ret == -EPERM) {
		/* A regular file: epoll refuses it, it never blocks. */
		c->in_is_file = true;
		console_sink_ready(c);
		return 0;
	}
	c->in_watched = ret == 0;
	return ret;
}

void console_write(struct console *c, const uint8_t *buf, size_t len)
{
	if (c->mode == CONSOLE_NONE)
		return;
	/* A closed stdout must not stop the guest: drop what cannot go. */
	write_full(c->out_fd, buf, len);
}

void console_sink_ready(struct console *c)
{
	uint64_t one = 1;

	if (c->wake_source.fd >= 0 &&
	    write(c->wake_source.fd, &one, sizeof(one)) < 0)
		return;
}

void console_destroy(struct console *c)
{
	if (c->wake_source.fd >= 0)
		close(c->wake_source.fd);
	c->wake_source.fd = -1;
	term_restore();
}
