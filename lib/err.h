/* SPDX-License-Identifier: MIT */
/*
 * Error detail for code that parses untrusted input (images, options,
 * snapshots). Such code returns -errno and fills a struct err with a sentence
 * naming what was wrong; the caller prefixes the thing it was working on (a
 * file name, an option) and decides what to do. Nothing here prints or exits.
 *
 * An error also carries its class, which only the command-line program maps
 * to an exit status (cmd/main.c). err_set() starts an error as ERR_RUNTIME;
 * a function whose errors are of another kind says so with err_mark().
 */
#ifndef GMVM_ERR_H
#define GMVM_ERR_H

#include <stddef.h>

enum err_class {
	ERR_RUNTIME,		/* gmvm, the host or the guest failed while working */
	ERR_USAGE,		/* the command line is wrong */
	ERR_INPUT,		/* a file, snapshot or value given cannot be used */
	ERR_UNSUPPORTED,	/* this host cannot do what was asked */
};

struct err {
	int errnum;	  /* positive errno value, 0 when unset */
	enum err_class cls;
	char msg[256];	  /* what was wrong, without a trailing newline */
};

/* Record errnum and a formatted message in e; returns -errnum. */
int err_set(struct err *e, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Put "<context>: " in front of e's message. Returns -e->errnum. */
int err_prefix(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Set e's class. Returns -e->errnum (-EINVAL when unset). */
int err_mark(struct err *e, enum err_class cls);

/*
 * Class an error of using what the user gave (a file, a path, a device's
 * configuration): ERR_INPUT, unless the host ran out of memory or
 * descriptors (ERR_RUNTIME). Returns -e->errnum.
 */
int err_mark_input(struct err *e);

/* Empty e. */
void err_clear(struct err *e);

#endif /* GMVM_ERR_H */
