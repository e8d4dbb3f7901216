// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

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
	char line[1024];
	va_list ap;
	int n;

	if (level > log_level)
		return;
	n = snprintf(line, sizeof(line), "%s", prefix[level]);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
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
