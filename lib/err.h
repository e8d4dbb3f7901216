/* SPDX-License-Identifier: MIT */
/*
 * Error detail for code that parses untrusted input (images, options,
 * snapshots). Such code returns -errno and fills a struct err with a sentence
 * naming what was wrong; the caller prefixes the thing it was working on (a
 * file name, an option) and decides what to do. Nothing here prints or exits.
 */
#ifndef GMVM_ERR_H
#define GMVM_ERR_H

#include <stddef.h>

struct err {
	int errnum;	  /* positive errno value, 0 when unset */
	char msg[256];	  /* what was wrong, without a trailing newline */
};

/* Record errnum and a formatted message in e; returns -errnum. */
int err_set(struct err *e, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Put "<context>: " in front of e's message. Returns -e->errnum. */
int err_prefix(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Empty e. */
void err_clear(struct err *e);

#endif /* GMVM_ERR_H */
