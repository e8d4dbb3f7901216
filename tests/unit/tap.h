/* SPDX-License-Identifier: MIT */
/*
 * A tiny TAP producer for the unit tests: one program per concept, one line
 * per assertion.
 *
 *	ok(cond, "name %d", x);		passes when cond is true
 *	is_int(got, want, "name");	signed integers
 *	is_u64(got, want, "name");	unsigned, shown in hex and decimal
 *	is_ptr(got, want, "name");	pointers
 *	is_str(got, want, "name");	strings (NULL allowed)
 *	like(got, part, "name");	got contains part
 *	is_mem(got, want, len, "name");	bytes
 *	return done_testing();		prints the plan, exit status
 *
 * A failure prints "not ok N - name" and "# ..." lines with the place, what
 * was got and what was expected. Every macro returns whether it passed.
 */
#ifndef GMVM_TESTS_TAP_H
#define GMVM_TESTS_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct tap_state {
	unsigned int run;
	unsigned int failed;
	unsigned int planned;	/* 0: plan printed by done_testing() */
};

static struct tap_state tap;

static inline void diag(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

static inline void plan(unsigned int n)
{
	tap.planned = n;
	printf("1..%u\n", n);
}

static inline bool tap_result(bool pass, const char *file, int line,
			      const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
static inline bool tap_result(bool pass, const char *file, int line,
			      const char *fmt, va_list ap)
{
	char name[512];

	tap.run++;
	vsnprintf(name, sizeof(name), fmt, ap);
	printf("%sok %u - ", pass ? "" : "not ", tap.run);
	/* A bare '#' would start a TAP directive. */
	for (const char *p = name; *p; p++) {
		if (*p == '#')
			fputc('\\', stdout);
		fputc(*p, stdout);
	}
	fputc('\n', stdout);
	if (!pass) {
		tap.failed++;
		diag("  failed at %s:%d", file, line);
	}
	return pass;
}

static inline bool tap_ok(bool pass, const char *file, int line,
			  const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static inline bool tap_ok(bool pass, const char *file, int line,
			  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_result(pass, file, line, fmt, ap);
	va_end(ap);
	return pass;
}

static inline bool tap_is_int(long long got, long long want, const char *file,
			      int line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static inline bool tap_is_int(long long got, long long want, const char *file,
			      int line, const char *fmt, ...)
{
	bool pass = got == want;
	va_list ap;

	va_start(ap, fmt);
	tap_result(pass, file, line, fmt, ap);
	va_end(ap);
	if (!pass)
		diag("       got: %lld\n#  expected: %lld", got, want);
	return pass;
}

static inline bool tap_is_u64(uint64_t got, uint64_t want, const char *file,
			      int line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static inline bool tap_is_u64(uint64_t got, uint64_t want, const char *file,
			      int line, const char *fmt, ...)
{
	bool pass = got == want;
	va_list ap;

	va_start(ap, fmt);
	tap_result(pass, file, line, fmt, ap);
	va_end(ap);
	if (!pass)
		diag("       got: %#" PRIx64 " (%" PRIu64 ")\n#  expected: %#"
		     PRIx64 " (%" PRIu64 ")", got, got, want, want);
	return pass;
}

static inline bool tap_is_ptr(const void *got, const void *want,
			      const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static inline bool tap_is_ptr(const void *got, const void *want,
			      const char *file, int line, const char *fmt, ...)
{
	bool pass = got == want;
	va_list ap;

	va_start(ap, fmt);
	tap_result(pass, file, line, fmt, ap);
	va_end(ap);
	if (!pass)
		diag("       got: %p\n#  expected: %p", got, want);
	return pass;
}

static inline bool tap_is_str(const char *got, const char *want,
			      const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static inline bool tap_is_str(const char *got, const char *want,
			      const char *file, int line, const char *fmt, ...)
{
	bool pass = got && want ? !strcmp(got, want) : got == want;
	va_list ap;

	va_start(ap, fmt);
	tap_result(pass, file, line, fmt, ap);
	va_end(ap);
	if (!pass)
		diag("       got: '%s'\n#  expected: '%s'", got ? got : "(null)",
		     want ? want : "(null)");
	return pass;
}

static inline bool tap_like(const char *got, const char *part,
			    const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static inline bool tap_like(const char *got, const char *part,
			    const char *file, int line, const char *fmt, ...)
{
	bool pass = got && strstr(got, part);
	va_list ap;

	va_start(ap, fmt);
	tap_result(pass, file, line, fmt, ap);
	va_end(ap);
	if (!pass)
		diag("            got: '%s'\n#  expected to contain: '%s'",
		     got ? got : "(null)", part);
	return pass;
}

static inline bool tap_is_mem(const void *got, const void *want, size_t len,
			      const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
static inline bool tap_is_mem(const void *got, const void *want, size_t len,
			      const char *file, int line, const char *fmt, ...)
{
	const uint8_t *g = got, *w = want;
	size_t i = 0;
	va_list ap;

	while (i < len && g[i] == w[i])
		i++;
	va_start(ap, fmt);
	tap_result(i == len, file, line, fmt, ap);
	va_end(ap);
	if (i < len)
		diag("  first difference at byte %zu of %zu: got %#04x, expected %#04x",
		     i, len, g[i], w[i]);
	return i == len;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...) \
	tap_is_int((long long)(got), (long long)(want), __FILE__, __LINE__, \
		   __VA_ARGS__)
#define is_u64(got, want, ...) \
	tap_is_u64((uint64_t)(got), (uint64_t)(want), __FILE__, __LINE__, \
		   __VA_ARGS__)
#define is_ptr(got, want, ...) \
	tap_is_ptr((got), (want), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, ...) \
	tap_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)
#define like(got, part, ...) \
	tap_like((got), (part), __FILE__, __LINE__, __VA_ARGS__)
#define is_mem(got, want, len, ...) \
	tap_is_mem((got), (want), (len), __FILE__, __LINE__, __VA_ARGS__)

/* Print the plan (unless plan() did) and return the exit status for main. */
static inline int done_testing(void)
{
	if (!tap.planned) {
		printf("1..%u\n", tap.run);
	} else if (tap.planned != tap.run) {
		diag("planned %u tests but ran %u", tap.planned, tap.run);
		return 1;
	}
	if (tap.failed)
		diag("failed %u of %u tests", tap.failed, tap.run);
	fflush(stdout);
	return tap.failed ? 1 : 0;
}

#endif /* GMVM_TESTS_TAP_H */
