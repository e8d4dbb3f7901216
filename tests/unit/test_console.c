// SPDX-License-Identifier: MIT
/*
 * Console Ctrl-A escapes: Ctrl-A x quits, Ctrl-A Ctrl-A is one Ctrl-A, any
 * other byte after Ctrl-A passes with it, and a Ctrl-A at the end of one read
 * applies to the next.
 */
#include <string.h>

#include "console.h"
#include "tap.h"

#define CA "\x01"
#define GUARD 0xee

/*
 * Filter the n bytes of in through st into a buffer of exactly n bytes (the
 * room the contract promises) followed by guard bytes. Returns the count;
 * *guard_ok tells whether the guard survived. Callers preset *quit to the
 * opposite of what they expect, so that a value left unset shows.
 */
static size_t filter(struct console_escape *st, const char *in, size_t n,
		     uint8_t *out, bool *quit, bool *guard_ok)
{
	uint8_t buf[64];
	size_t ret;

	memset(buf, GUARD, sizeof(buf));
	ret = console_escape_filter(st, (const uint8_t *)in, n, buf, quit);
	/* The contract: room for n + 1 bytes (a held-back Ctrl-A). */
	*guard_ok = true;
	for (size_t i = n + 1; i < sizeof(buf); i++)
		if (buf[i] != GUARD)
			*guard_ok = false;
	memcpy(out, buf, n + 1);
	return ret;
}

/* One call on fresh state; checks the output, quit and the guard. */
static void check(bool active, const char *in, size_t n, const char *want,
		  size_t want_n, bool want_quit, const char *what)
{
	struct console_escape st = { .active = active };
	uint8_t out[64];
	bool quit = !want_quit, guard_ok;
	size_t got = filter(&st, in, n, out, &quit, &guard_ok);

	if (is_int(got, want_n, "%s: %zu bytes out", what, want_n))
		is_mem(out, want, want_n, "%s: bytes", what);
	is_int(quit, want_quit, "%s: quit %s", what,
	       want_quit ? "set" : "clear");
	ok(guard_ok, "%s: nothing written past n bytes", what);
}

static void test_inactive(void)
{
	check(false, "hello", 5, "hello", 5, false, "inactive, plain text");
	check(false, CA "x", 2, CA "x", 2, false,
	      "inactive, Ctrl-A x passes");
	check(false, "a" CA CA "b" CA, 5, "a" CA CA "b" CA, 5, false,
	      "inactive, Ctrl-A everywhere passes");
	check(false, "", 0, "", 0, false, "inactive, empty input");
}

static void test_active(void)
{
	check(true, "hello", 5, "hello", 5, false, "active, plain text");
	check(true, "", 0, "", 0, false, "active, empty input");
	check(true, CA "x", 2, "", 0, true, "Ctrl-A x");
	check(true, "ab" CA "xcd", 6, "ab", 2, true,
	      "Ctrl-A x: bytes before pass, the rest is dropped");
	check(true, CA "x" CA CA, 4, "", 0, true,
	      "Ctrl-A x: Ctrl-A after it dropped too");
	check(true, CA CA, 2, CA, 1, false, "Ctrl-A Ctrl-A is one Ctrl-A");
	check(true, "a" CA CA "b", 4, "a" CA "b", 3, false,
	      "Ctrl-A Ctrl-A inside text");
	check(true, CA CA "x", 3, CA "x", 2, false,
	      "x after a literal Ctrl-A does not quit");
	check(true, CA "b", 2, CA "b", 2, false,
	      "Ctrl-A then another byte yields both");
	check(true, CA "X", 2, CA "X", 2, false,
	      "Ctrl-A X (capital) yields both");
	check(true, "q" CA "\x00" "r", 4, "q" CA "\x00" "r", 4, false,
	      "Ctrl-A NUL yields both");
	check(true, CA CA CA CA, 4, CA CA, 2, false,
	      "four Ctrl-A are two");
}

static void test_split(void)
{
	struct console_escape st = { .active = true };
	uint8_t out[64];
	bool quit = true, guard_ok;

	is_int(filter(&st, "a" CA, 2, out, &quit, &guard_ok), 1,
	       "split x: first read gives 'a' only");
	is_int(out[0], 'a', "split x: the 'a'");
	ok(!quit, "split x: no quit yet");
	is_int(filter(&st, "xyz", 3, out, &quit, &guard_ok), 0,
	       "split x: second read gives nothing");
	ok(quit, "split x: Ctrl-A ending one read and x starting the next quit");
	ok(!st.pending, "split x: no escape pending after quit");

	st = (struct console_escape){ .active = true };
	quit = true;
	is_int(filter(&st, CA, 1, out, &quit, &guard_ok), 0,
	       "split Ctrl-A Ctrl-A: first read gives nothing");
	ok(!quit, "split Ctrl-A Ctrl-A: no quit");
	quit = true;
	is_int(filter(&st, CA "z", 2, out, &quit, &guard_ok), 2,
	       "split Ctrl-A Ctrl-A: second read gives 2 bytes");
	is_mem(out, CA "z", 2, "split Ctrl-A Ctrl-A: one Ctrl-A, then z");
	ok(!quit, "split Ctrl-A Ctrl-A: still no quit");
	ok(guard_ok, "split Ctrl-A Ctrl-A: within n bytes");

	st = (struct console_escape){ .active = true };
	quit = true;
	filter(&st, CA, 1, out, &quit, &guard_ok);
	quit = true;
	is_int(filter(&st, "x", 0, out, &quit, &guard_ok), 0,
	       "split: an empty read in between gives nothing");
	ok(!quit, "split: the empty read does not quit");
	is_int(filter(&st, "x", 1, out, &quit, &guard_ok), 0,
	       "split: the Ctrl-A survives an empty read");
	ok(quit, "split: ... and x then quits");
}

/*
 * A Ctrl-A left from the previous read and an ordinary byte: the guest
 * gets both, so this call may write n + 1 bytes, never more.
 */
static void test_split_other_byte(void)
{
	struct console_escape st = { .active = true };
	uint8_t out[64];
	bool quit = true, guard_ok;
	size_t got;

	filter(&st, CA, 1, out, &quit, &guard_ok);
	quit = true;
	got = filter(&st, "bc", 2, out, &quit, &guard_ok);
	is_int(got, 3, "split Ctrl-A then 'bc': n + 1 = 3 bytes out (got %zu)",
	       got);
	ok(guard_ok, "split Ctrl-A then 'bc': nothing written past n + 1 bytes");
	is_int(out[0], 0x01, "split Ctrl-A then 'bc': the Ctrl-A is not lost");
	is_int(out[1], 'b', "split Ctrl-A then 'bc': then b");
	is_int(out[2], 'c', "split Ctrl-A then 'bc': then c");
	ok(!quit, "split Ctrl-A then 'bc': no quit");
}

int main(void)
{
	test_inactive();
	test_active();
	test_split();
	test_split_other_byte();
	return done_testing();
}
