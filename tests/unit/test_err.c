// SPDX-License-Identifier: MIT
/* struct err: err_set() formats and returns -errnum, err_prefix() prepends. */
#include <errno.h>
#include <string.h>

#include "err.h"
#include "tap.h"

/* A struct err followed by bytes that must never be written. */
struct guarded_err {
	struct err e;
	unsigned char guard[32];
};

static void guard_init(struct guarded_err *g)
{
	memset(g, 0x5a, sizeof(*g));
	err_clear(&g->e);
}

static bool guard_intact(const struct guarded_err *g)
{
	for (size_t i = 0; i < sizeof(g->guard); i++)
		if (g->guard[i] != 0x5a)
			return false;
	return true;
}

static void test_set(void)
{
	struct err e;

	err_clear(&e);
	is_int(err_set(&e, EINVAL, "bad %s %d", "value", 42), -EINVAL,
	       "err_set returns -errnum");
	is_int(e.errnum, EINVAL, "err_set records errnum");
	is_str(e.msg, "bad value 42", "err_set formats the message");

	is_int(err_set(&e, ENOEXEC, "second"), -ENOEXEC,
	       "err_set returns the new errnum");
	is_int(e.errnum, ENOEXEC, "err_set replaces errnum");
	is_str(e.msg, "second", "err_set replaces the message");

	err_clear(&e);
	is_int(e.errnum, 0, "err_clear resets errnum");
	is_str(e.msg, "", "err_clear empties the message");
}

static void test_set_long(void)
{
	struct guarded_err g;
	char longmsg[600];

	memset(longmsg, 'x', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	guard_init(&g);
	is_int(err_set(&g.e, E2BIG, "%s", longmsg), -E2BIG,
	       "err_set with an overlong message still returns -errnum");
	is_u64(strlen(g.e.msg), sizeof(g.e.msg) - 1,
	       "overlong message truncated to the buffer, NUL-terminated");
	ok(guard_intact(&g), "err_set writes nothing past the struct");
}

static void test_prefix(void)
{
	struct err e;

	err_set(&e, EINVAL, "'%s' is not a number", "abc");
	is_int(err_prefix(&e, "--cpus"), -EINVAL, "err_prefix returns -errnum");
	is_str(e.msg, "--cpus: 'abc' is not a number",
	       "err_prefix puts \"ctx: \" in front");
	is_int(e.errnum, EINVAL, "err_prefix keeps errnum");

	is_int(err_prefix(&e, "file %s line %d", "k.elf", 3), -EINVAL,
	       "second err_prefix returns -errnum");
	is_str(e.msg, "file k.elf line 3: --cpus: 'abc' is not a number",
	       "prefixes nest, newest first, formatted");

	err_set(&e, ENOENT, "%s", "");
	err_prefix(&e, "ctx");
	is_str(e.msg, "ctx: ", "prefix of an empty message");
}

static void test_prefix_long(void)
{
	struct guarded_err g;
	char msg[200], ctx[200], want[sizeof(g.e.msg)];

	memset(msg, 'm', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	memset(ctx, 'p', sizeof(ctx) - 1);
	ctx[sizeof(ctx) - 1] = '\0';
	/* What fits of "<ctx>: <msg>" in the buffer. */
	memcpy(want, ctx, strlen(ctx));
	memcpy(want + strlen(ctx), ": ", 2);
	memset(want + strlen(ctx) + 2, 'm', sizeof(want) - 1 - strlen(ctx) - 2);
	want[sizeof(want) - 1] = '\0';

	guard_init(&g);
	err_set(&g.e, EIO, "%s", msg);
	is_int(err_prefix(&g.e, "%s", ctx), -EIO,
	       "long prefix on a long message returns -errnum");
	is_u64(strlen(g.e.msg), sizeof(g.e.msg) - 1,
	       "prefix + message truncated to the buffer");
	is_str(g.e.msg, want,
	       "prefix, \": \" and as much of the old message as fits");
	ok(guard_intact(&g), "err_prefix writes nothing past the struct");

	guard_init(&g);
	err_set(&g.e, EIO, "old");
	is_int(err_prefix(&g.e, "%s%s", ctx, ctx), -EIO,
	       "prefix longer than the buffer returns -errnum");
	is_u64(strlen(g.e.msg), sizeof(g.e.msg) - 1,
	       "prefix longer than the buffer is truncated, NUL-terminated");
	ok(!strncmp(g.e.msg, ctx, strlen(ctx)),
	   "the truncated message starts with the prefix");
	ok(guard_intact(&g), "an overlong prefix writes nothing past the struct");
}

int main(void)
{
	test_set();
	test_set_long();
	test_prefix();
	test_prefix_long();
	return done_testing();
}
