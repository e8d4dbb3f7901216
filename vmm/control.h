/* SPDX-License-Identifier: MIT */
/*
 * The control socket (--control SOCK): a UNIX stream socket speaking JSON
 * lines, one request object per line and one reply object per line.
 *
 *   {"cmd": "status"}                 {"ok": true, "state": "running", ...}
 *   {"cmd": "pause"} / {"cmd": "resume"}
 *   {"cmd": "snapshot", "dir": "/abs/dir", "pause_after": false}
 *   {"cmd": "stats"}                  {"ok": true, "stats": {...}}
 *   {"cmd": "stop"}
 * Failures: {"ok": false, "error": "what was wrong"}.
 * Requests are served on the main thread, between other events.
 */
#ifndef GMVM_CONTROL_H
#define GMVM_CONTROL_H

#include "err.h"

struct vm;

#define CONTROL_LINE_MAX 4096

/*
 * Listen on path (refusing to take over a live socket). 0 or -errno with e
 * set and classed (err_mark_input).
 */
int control_start(struct vm *vm, const char *path, struct err *e);

/* Close every connection and remove the socket file. */
void control_stop(struct vm *vm);

#endif /* GMVM_CONTROL_H */
