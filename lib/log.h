/* SPDX-License-Identifier: MIT */
/*
 * Diagnostics on stderr, each line prefixed with "gmvm: ". Safe to call from
 * any thread; a line is written with one write(2) so lines never interleave.
 */
#ifndef GMVM_LOG_H
#define GMVM_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_ERROR,
	LOG_WARN,
	LOG_NOTICE,	/* results the user asked for (--boot-timer, ...) */
	LOG_INFO,
	LOG_DEBUG,
};

/* Messages above this level are dropped. Default LOG_NOTICE. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * A line a guest or a client can cause at will goes through a log_limit:
 * at most one per second from each, the lines held back counted and said
 * with the next one that goes out. Zero-initialised; any thread.
 */
struct log_limit {
	_Atomic unsigned long long last_ns;
	_Atomic unsigned int held;
};

#define LOG_LIMIT_INTERVAL_NS 1000000000ull

/* True when a line may go out now; *held is how many were held back. */
bool log_limit_pass(struct log_limit *limit, unsigned int *held);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif /* GMVM_LOG_H */
