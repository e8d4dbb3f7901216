/* SPDX-License-Identifier: MIT */
/*
 * The guest console: joins the monitor's stdin/stdout to the device that owns
 * the guest end (the UART). Input is read on the main thread; a TTY is put in
 * raw mode and restored on every way out. On a TTY, Ctrl-A x ends the VM and
 * Ctrl-A Ctrl-A sends one Ctrl-A.
 */
#ifndef GMVM_CONSOLE_H
#define GMVM_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event_loop.h"

enum console_mode {
	CONSOLE_SERIAL,		/* COM1 on stdin/stdout */
	CONSOLE_NONE,		/* COM1 present, output dropped, no input */
	CONSOLE_VIRTIO,		/* virtio-console (hvc0) on stdin/stdout;
				   COM1's output still shown */
	CONSOLE_OUTPUT,		/* COM1's output on stdout, no input (gmvm
				   fuzz: stdin may be the fuzzer's input) */
};

/* The device end of the console. */
struct console_sink {
	/*
	 * Take up to len bytes of host input; return how many were taken.
	 * Called on the main thread, without device locks held.
	 */
	size_t (*input)(void *opaque, const uint8_t *buf, size_t len);
	void *opaque;
};

#define CONSOLE_READ_MAX 256	/* bytes read from stdin at a time */

/* Ctrl-A escape state of a TTY console. */
struct console_escape {
	bool active;		/* escapes are recognised (input is a TTY) */
	bool pending;		/* the last byte was Ctrl-A */
};

struct console {
	enum console_mode mode;
	int in_fd;
	int out_fd;
	struct event_loop *loop;
	struct console_sink sink;
	struct console_escape escape;
	void (*quit)(void *opaque);	/* Ctrl-A x */
	void *quit_opaque;
	struct event_source in_source;
	struct event_source wake_source;	/* eventfd: sink has room */
	/* Read, not yet taken by the sink: a read's worth and a held Ctrl-A. */
	uint8_t pending[CONSOLE_READ_MAX + 1];
	size_t pending_off;
	size_t pending_len;
	bool in_watched;
	bool in_is_file;		/* no epoll: read as the sink drains */
	bool in_eof;
};

/* Set up c for mode; nothing is read until console_start(). */
void console_init(struct console *c, enum console_mode mode);

void console_set_sink(struct console *c, const struct console_sink *sink);

/*
 * Begin reading input on loop (raw mode on a TTY); quit is called on Ctrl-A x.
 * Returns 0 or -errno.
 */
int console_start(struct console *c, struct event_loop *loop,
		  void (*quit)(void *opaque), void *quit_opaque);

/* Guest output. Any thread. */
void console_write(struct console *c, const uint8_t *buf, size_t len);

/* The sink can take input again. Any thread, device locks may be held. */
void console_sink_ready(struct console *c);

/* Stop reading input and restore the terminal. */
void console_destroy(struct console *c);

/*
 * Apply Ctrl-A escapes to n input bytes, writing what the guest should get to
 * out, which needs room for n + 1 bytes (a Ctrl-A held back from the previous
 * call may come out with this call's first byte). Returns the number of
 * bytes written to out; sets *quit on Ctrl-A x and drops the rest of in.
 */
size_t console_escape_filter(struct console_escape *st, const uint8_t *in,
			     size_t n, uint8_t *out, bool *quit);

/* Terminal raw mode (lib/term.c). */
int term_raw_begin(int fd);
void term_restore(void);

#endif /* GMVM_CONSOLE_H */
