// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

int err_set(struct err *e, int errnum, const char *fmt, ...)
{
	va_list ap;

	if (e) {
		e->errnum = errnum;
		e->cls = ERR_RUNTIME;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return -errnum;
}

int err_mark(struct err *e, enum err_class cls)
{
	e->cls = cls;
	if (!e->errnum)
		e->errnum = EINVAL;
	return -e->errnum;
}

int err_mark_input(struct err *e)
{
	switch (e->errnum) {
	case ENOMEM:
	case EMFILE:
	case ENFILE:
		return err_mark(e, ERR_RUNTIME);
	default:
		return err_mark(e, ERR_INPUT);
	}
}

void err_clear(struct err *e)
{
	e->errnum = 0;
	e->cls = ERR_RUNTIME;
	e->msg[0] = '\0';
}

int err_prefix(struct err *e, const char *fmt, ...)
{
	char old[sizeof(e->msg)];
	va_list ap;
	int n;

	memcpy(old, e->msg, sizeof(old));
	va_start(ap, fmt);
	n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(e->msg))
		snprintf(e->msg + n, sizeof(e->msg) - n, ": %s", old);
	return -e->errnum;
}
