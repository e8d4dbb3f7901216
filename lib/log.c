// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static enum log_level log_level = LOG_NOTICE;

void log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level log_get_level(void)
{
	return log_level;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = {
		[LOG_ERROR] = "gmvm: error: ",
		[LOG_WARN] = "gmvm: warning: ",
		[LOG_NOTICE] = "gmvm: ",
		[LOG_INFO] = "gmvm: ",
		[LOG_DEBUG] = "gmvm: debug: ",
	};
	char msg[1024], line[4 * sizeof(msg) + 64];
	va_list ap;
	int n;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Names from snapshots and guests are in messages: one line, plain. */
	n = snprintf(line, sizeof(line), "%s", prefix[level]);
	str_escape(line + n, sizeof(line) - n - 1, msg);
	n = strlen(line);
	line[n++] = '\n';
	/* One write per line: lines from several threads never interleave. */
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

bool log_limit_pass(struct log_limit *limit, unsigned int *held)
{
	unsigned long long last = limit->last_ns, now;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (unsigned long long)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	/* The first line always goes out; a racing thread's is held back. */
	if ((last && now - last < LOG_LIMIT_INTERVAL_NS) ||
	    !atomic_compare_exchange_strong(&limit->last_ns, &last, now)) {
		limit->held++;
		return false;
	}
	*held = atomic_exchange(&limit->held, 0);
	return true;
}
