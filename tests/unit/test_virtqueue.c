// SPDX-License-Identifier: MIT
/*
 * Split virtqueues over fake guest memory, laid out the way a driver would:
 * ring setup checks, requests taken and handed back (with index wrap-around
 * and event-idx notification suppression), indirect tables, copying to and
 * from requests, and hostile rings. Every hostile ring must be refused with
 * -EINVAL and a message, without writing guest RAM or consuming the request.
 *
 * Guest RAM sits between PROT_NONE guard regions, so reading or writing just
 * outside it crashes the test instead of passing silently; the MMIO gap test
 * uses a 3 GiB + 2 MiB layout over reserved address space in which only the
 * few pages it touches are accessible.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "guest_mem.h"
#include "virtio.h"
#include "tap.h"

#define RAM_SIZE (8 * MIB)
#define GUARD (1 * MIB)

/* Where the "driver" puts things in guest physical memory. */
#define DESC_GPA 0x10000ull
#define AVAIL_GPA 0x20000ull
#define USED_GPA 0x30000ull
#define TABLE_GPA 0x40000ull
#define DATA_GPA 0x100000ull

/* Gap layout: RAM [0, 3 GiB) and [4 GiB, 4 GiB + 2 MiB). */
#define GAP_RAM (3 * GIB + 2 * MIB)
#define GAP_WINDOW (64 * 1024ull)

static struct guest_mem mem;		/* the memory under test */
static struct virtq vq;
static struct virtq_req req;
static struct err e;

/* The accessible parts of mem (host offsets), for clearing and snapshots. */
struct range {
	uint64_t off, len;
};
static struct range ranges[3];
static unsigned int nr_ranges;
static uint8_t *shadow;			/* RAM_SIZE bytes */

/* --- Guest memory ------------------------------------------------------ */

static void mem_clear(void)
{
	for (unsigned int i = 0; i < nr_ranges; i++)
		memset(mem.base + ranges[i].off, 0, ranges[i].len);
}

static void snapshot(void)
{
	uint8_t *s = shadow;

	for (unsigned int i = 0; i < nr_ranges; i++) {
		memcpy(s, mem.base + ranges[i].off, ranges[i].len);
		s += ranges[i].len;
	}
}

/* True when guest RAM is as snapshot() left it. */
static bool unchanged(void)
{
	const uint8_t *s = shadow;

	for (unsigned int i = 0; i < nr_ranges; i++) {
		if (memcmp(s, mem.base + ranges[i].off, ranges[i].len))
			return false;
		s += ranges[i].len;
	}
	return true;
}

static uint8_t *host(uint64_t gpa)
{
	return guest_mem_ptr(&mem, gpa, 1);
}

/* --- The driver's side of a queue --------------------------------------- */

static bool vq_setup(uint16_t size, bool event_idx, bool indirect)
{
	mem_clear();
	memset(&vq, 0, sizeof(vq));
	vq.size = size;
	vq.desc_gpa = DESC_GPA;
	vq.avail_gpa = AVAIL_GPA;
	vq.used_gpa = USED_GPA;
	vq.event_idx = event_idx;
	vq.indirect = indirect;
	vq.ready = true;
	err_clear(&e);
	if (virtq_enable(&vq, &mem, &e))
		return ok(false, "set up a queue of %u: %s", size, e.msg);
	return true;
}

static void set_desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	vq.desc[i] = (struct vring_desc){ addr, len, flags, next };
}

/* Entry i of an indirect table at gpa (which need not be aligned). */
static void set_tdesc(uint64_t table, unsigned int i, uint64_t addr,
		      uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc d = { addr, len, flags, next };

	memcpy(host(table + 16ull * i), &d, sizeof(d));
}

static void avail_add(uint16_t head)
{
	vq.avail->ring[vq.avail->idx % vq.size] = head;
	vq.avail->idx++;
}

/* Start both sides at index idx, as if idx requests had come and gone. */
static void set_indices(uint16_t idx)
{
	vq.avail->idx = idx;
	vq.last_avail = idx;
	vq.used->idx = idx;
	vq.used_idx = idx;
}

static uint16_t avail_event(void)
{
	uint16_t v;

	memcpy(&v, &vq.used->ring[vq.size], sizeof(v));
	return v;
}

static void set_avail_event(uint16_t v)
{
	memcpy(&vq.used->ring[vq.size], &v, sizeof(v));
}

static void set_used_event(uint16_t v)
{
	vq.avail->ring[vq.size] = v;
}

/* --- Expectations --------------------------------------------------------- */

static int pop(void)
{
	err_clear(&e);
	return virtq_pop(&vq, &mem, &req, &e);
}

static bool expect_pop(const char *what)
{
	int ret = pop();

	if (!is_int(ret, 1, "%s: virtq_pop takes a request", what)) {
		diag("  error: %s", e.msg);
		return false;
	}
	return true;
}

static void expect_shape(const char *what, uint16_t head, unsigned int nr_out,
			 unsigned int nr_in, uint64_t out_len, uint64_t in_len)
{
	is_int(req.head, head, "%s: head", what);
	is_int(req.nr_out, nr_out, "%s: nr_out", what);
	is_int(req.nr_in, nr_in, "%s: nr_in", what);
	is_u64(req.out_len, out_len, "%s: out_len", what);
	is_u64(req.in_len, in_len, "%s: in_len", what);
}

static void expect_buf(const char *what, unsigned int i, uint64_t gpa,
		       uint32_t len)
{
	is_ptr(req.buf[i].addr, host(gpa), "%s: buffer %u at base + %#llx",
	       what, i, (unsigned long long)gpa);
	is_int(req.buf[i].len, len, "%s: buffer %u length", what, i);
}

/* The next request is hostile: refused, RAM untouched, not consumed. */
static void expect_bad(const char *what, const char *part)
{
	uint16_t last = vq.last_avail;
	int ret;

	snapshot();
	ret = pop();
	is_int(ret, -EINVAL, "%s: virtq_pop is -EINVAL", what);
	is_int(e.errnum, EINVAL, "%s: error is EINVAL", what);
	like(e.msg, part, "%s: message", what);
	ok(unchanged(), "%s: guest RAM unchanged", what);
	is_int(vq.last_avail, last, "%s: request not consumed", what);
}

/* --- virtq_enable --------------------------------------------------------- */

static int enable(uint16_t size, uint64_t desc, uint64_t avail, uint64_t used)
{
	struct virtq t = { .size = size, .desc_gpa = desc, .avail_gpa = avail,
			   .used_gpa = used };

	err_clear(&e);
	return virtq_enable(&t, &mem, &e);
}

static void test_enable(void)
{
	static const uint16_t bad_sizes[] = { 0, 3, 5, 6, 12, 100, 1023, 1025,
					      2048, 4096, 32768, 65535 };
	const uint64_t n = 256;

	for (unsigned int size = 1; size <= VIRTQ_MAX_SIZE; size *= 2) {
		struct virtq t = { .size = size, .desc_gpa = DESC_GPA,
				   .avail_gpa = AVAIL_GPA, .used_gpa = USED_GPA };
		int ret;

		err_clear(&e);
		ret = virtq_enable(&t, &mem, &e);
		is_int(ret, 0, "enable: size %u accepted", size);
		ok(t.desc == (void *)host(DESC_GPA) &&
		   t.avail == (void *)host(AVAIL_GPA) &&
		   t.used == (void *)host(USED_GPA),
		   "enable: size %u maps the rings at base + gpa", size);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad_sizes); i++) {
		is_int(enable(bad_sizes[i], DESC_GPA, AVAIL_GPA, USED_GPA),
		       -EINVAL, "enable: size %u refused", bad_sizes[i]);
		like(e.msg, "power of two", "enable: size %u message",
		     bad_sizes[i]);
	}

	/* Alignment: 16 for descriptors, 2 for avail, 4 for used. */
	is_int(enable(n, DESC_GPA + 8, AVAIL_GPA, USED_GPA), -EINVAL,
	       "enable: descriptors 8-aligned refused");
	like(e.msg, "misaligned", "enable: descriptors 8-aligned message");
	is_int(enable(n, DESC_GPA + 1, AVAIL_GPA, USED_GPA), -EINVAL,
	       "enable: descriptors at an odd address refused");
	is_int(enable(n, DESC_GPA, AVAIL_GPA + 1, USED_GPA), -EINVAL,
	       "enable: avail at an odd address refused");
	like(e.msg, "misaligned", "enable: avail misaligned message");
	is_int(enable(n, DESC_GPA, AVAIL_GPA, USED_GPA + 2), -EINVAL,
	       "enable: used 2-aligned refused");
	like(e.msg, "misaligned", "enable: used misaligned message");
	is_int(enable(n, DESC_GPA + 16, AVAIL_GPA + 2, USED_GPA + 4), 0,
	       "enable: minimal alignments accepted");

	/* Outside RAM. */
	is_int(enable(n, RAM_SIZE, AVAIL_GPA, USED_GPA), -EINVAL,
	       "enable: descriptors at the top of RAM refused");
	like(e.msg, "not inside guest RAM", "enable: outside RAM message");
	is_int(enable(n, DESC_GPA, 4 * GIB, USED_GPA), -EINVAL,
	       "enable: avail at 4 GiB refused");
	like(e.msg, "not inside guest RAM", "enable: avail outside RAM message");
	is_int(enable(n, DESC_GPA, AVAIL_GPA, 1ull << 50), -EINVAL,
	       "enable: used at 2^50 refused");
	like(e.msg, "not inside guest RAM", "enable: used outside RAM message");
	is_int(enable(n, 0 - 16 * n, AVAIL_GPA, USED_GPA), -EINVAL,
	       "enable: descriptors ending at 2^64 refused");
	is_int(enable(n, 0 - 16 * n + 16 * 8, AVAIL_GPA, USED_GPA), -EINVAL,
	       "enable: descriptors wrapping 2^64 refused");
	is_int(enable(n, DESC_GPA, AVAIL_GPA, 0 - 8ull * n), -EINVAL,
	       "enable: used wrapping 2^64 refused");

	/* Exactly at the end of RAM, and one word over it. */
	is_int(enable(n, RAM_SIZE - 16 * n, AVAIL_GPA, USED_GPA), 0,
	       "enable: descriptors ending at the top of RAM accepted");
	is_int(enable(n, RAM_SIZE - 16 * n + 16, AVAIL_GPA, USED_GPA), -EINVAL,
	       "enable: descriptors straddling the top of RAM refused");
	like(e.msg, "not inside guest RAM", "enable: straddling message");
	is_int(enable(n, DESC_GPA, RAM_SIZE - (6 + 2 * n), USED_GPA), 0,
	       "enable: avail with used_event ending at the top accepted");
	is_int(enable(n, DESC_GPA, RAM_SIZE - (4 + 2 * n), USED_GPA), -EINVAL,
	       "enable: avail whose used_event word straddles the top refused");
	is_int(enable(n, DESC_GPA, AVAIL_GPA, RAM_SIZE - (8 + 8 * n)), 0,
	       "enable: used with avail_event inside RAM accepted");
	is_int(enable(n, DESC_GPA, AVAIL_GPA, RAM_SIZE - (4 + 8 * n)), -EINVAL,
	       "enable: used whose avail_event word straddles the top refused");
	is_int(enable(VIRTQ_MAX_SIZE, RAM_SIZE - 16 * VIRTQ_MAX_SIZE,
		      RAM_SIZE - 16 * VIRTQ_MAX_SIZE - 4096,
		      RAM_SIZE - 32 * VIRTQ_MAX_SIZE), 0,
	       "enable: largest queue at the top of RAM accepted");
}

/* --- Valid requests ------------------------------------------------------- */

static void test_pop_basic(void)
{
	if (!vq_setup(16, false, false))
		return;
	snapshot();
	is_int(pop(), 0, "empty ring: virtq_pop is 0");
	ok(unchanged(), "empty ring: guest RAM unchanged");
	is_int(vq.last_avail, 0, "empty ring: last_avail stays 0");

	/* One direct descriptor. */
	set_desc(5, DATA_GPA, 512, 0, 0);
	avail_add(5);
	snapshot();
	if (expect_pop("one readable descriptor")) {
		expect_shape("one readable descriptor", 5, 1, 0, 512, 0);
		expect_buf("one readable descriptor", 0, DATA_GPA, 512);
	}
	ok(unchanged(), "one descriptor: pop writes no guest RAM");
	is_int(vq.last_avail, 1, "one descriptor: last_avail 1");
	is_int(pop(), 0, "one descriptor: then empty");

	set_desc(9, DATA_GPA + 0x1000, 64, VRING_DESC_F_WRITE, 0);
	avail_add(9);
	if (expect_pop("one writable descriptor")) {
		expect_shape("one writable descriptor", 9, 0, 1, 0, 64);
		expect_buf("one writable descriptor", 0, DATA_GPA + 0x1000, 64);
	}

	/* Readable then writable, in shuffled descriptor order. */
	set_desc(3, DATA_GPA + 0x2000, 16, VRING_DESC_F_NEXT, 12);
	set_desc(12, DATA_GPA + 0x3000, 100, VRING_DESC_F_NEXT, 0);
	set_desc(0, DATA_GPA + 0x4000, 4096, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 15);
	set_desc(15, DATA_GPA + 0x5001, 1, VRING_DESC_F_WRITE, 7);
	avail_add(3);
	if (expect_pop("2 readable + 2 writable")) {
		const char *w = "2 readable + 2 writable";

		expect_shape(w, 3, 2, 2, 116, 4097);
		expect_buf(w, 0, DATA_GPA + 0x2000, 16);
		expect_buf(w, 1, DATA_GPA + 0x3000, 100);
		expect_buf(w, 2, DATA_GPA + 0x4000, 4096);
		expect_buf(w, 3, DATA_GPA + 0x5001, 1);
	}

	/* The last bytes of RAM and the first. */
	set_desc(1, RAM_SIZE - 16, 16, VRING_DESC_F_NEXT, 2);
	set_desc(2, 0, 1, VRING_DESC_F_WRITE, 0);
	avail_add(1);
	if (expect_pop("first and last bytes of RAM")) {
		expect_buf("first and last bytes of RAM", 0, RAM_SIZE - 16, 16);
		expect_buf("first and last bytes of RAM", 1, 0, 1);
	}

	/* A chain as long as the queue. */
	for (uint16_t i = 0; i < 16; i++)
		set_desc(i, DATA_GPA + 0x100 * i, 0x10 + i,
			 i < 15 ? VRING_DESC_F_NEXT : 0, i + 1);
	avail_add(0);
	if (expect_pop("chain as long as the queue")) {
		bool all = true;

		is_int(req.nr_out, 16, "chain as long as the queue: 16 buffers");
		for (unsigned int i = 0; i < 16; i++)
			all &= req.buf[i].addr == host(DATA_GPA + 0x100 * i) &&
			       req.buf[i].len == 0x10 + i;
		ok(all, "chain as long as the queue: buffers in chain order");
	}
	is_int(vq.last_avail, 5, "five requests taken");
}

static void test_pop_order(void)
{
	if (!vq_setup(8, false, false))
		return;
	set_desc(2, DATA_GPA, 10, 0, 0);
	set_desc(7, DATA_GPA + 0x100, 20, VRING_DESC_F_NEXT, 3);
	set_desc(3, DATA_GPA + 0x200, 30, VRING_DESC_F_WRITE, 0);
	set_desc(0, DATA_GPA + 0x300, 40, VRING_DESC_F_WRITE, 0);
	avail_add(2);
	avail_add(7);
	avail_add(0);
	if (expect_pop("in order, first"))
		expect_shape("in order, first", 2, 1, 0, 10, 0);
	if (expect_pop("in order, second")) {
		expect_shape("in order, second", 7, 1, 1, 20, 30);
		expect_buf("in order, second", 1, DATA_GPA + 0x200, 30);
	}
	if (expect_pop("in order, third"))
		expect_shape("in order, third", 0, 0, 1, 0, 40);
	is_int(pop(), 0, "in order: then empty");
	/* The same descriptors offered again. */
	avail_add(7);
	if (expect_pop("in order, descriptors reused"))
		expect_shape("in order, descriptors reused", 7, 1, 1, 20, 30);
	is_int(vq.last_avail, 4, "in order: last_avail 4");

	/* A full ring: the index jumps by exactly the queue size. */
	for (uint16_t i = 0; i < 8; i++) {
		set_desc(i, DATA_GPA + i, 1, 0, 0);
		avail_add(7 - i);
	}
	for (uint16_t i = 0; i < 8; i++)
		if (!expect_pop("full ring") || !is_int(req.head, 7 - i, "full ring: head %u", i))
			break;
	is_int(pop(), 0, "full ring: then empty");
}

static void test_pop_wrap(void)
{
	static const uint16_t heads[] = { 4, 1, 6, 0, 2 };
	bool in_order = true;

	if (!vq_setup(8, false, false))
		return;
	set_indices(65533);
	for (uint16_t i = 0; i < 8; i++)
		set_desc(i, DATA_GPA + 0x10 * i, 0x10, 0, 0);
	for (size_t i = 0; i < ARRAY_SIZE(heads); i++)
		avail_add(heads[i]);
	is_int(vq.avail->idx, 2, "wrap: the driver's avail index wrapped to 2");
	is_int(vq.avail->ring[65535 % 8], 6, "wrap: entry 65535 is in slot 7");
	for (size_t i = 0; i < ARRAY_SIZE(heads); i++) {
		int ret = pop();

		in_order &= ret == 1 && req.head == heads[i];
	}
	ok(in_order, "wrap: five requests across 65535 -> 0, in order");
	is_int(vq.last_avail, 2, "wrap: last_avail 2");
	is_int(pop(), 0, "wrap: then empty");
}

static void test_push(void)
{
	struct vring_used_elem fill;

	if (!vq_setup(16, false, false))
		return;
	memset(vq.used, 0xee, 6 + 8 * 16);
	memset(&fill, 0xee, sizeof(fill));
	vq.used->idx = 0;

	virtq_push(&vq, 3, 100);
	is_int(vq.used->ring[0].id, 3, "push: entry 0 id");
	is_int(vq.used->ring[0].len, 100, "push: entry 0 len");
	is_int(vq.used->idx, 1, "push: used index 1");
	is_int(vq.used_idx, 1, "push: vq used_idx 1");
	virtq_push(&vq, 15, 0);
	is_int(vq.used->ring[1].id, 15, "push: entry 1 id");
	is_int(vq.used->ring[1].len, 0, "push: entry 1 len");
	is_int(vq.used->idx, 2, "push: used index 2");
	ok(!memcmp(&vq.used->ring[2], &fill, sizeof(fill)),
	   "push: entry 2 untouched");
	is_int(vq.used->flags, 0xeeee, "push: used flags untouched");
	is_int(avail_event(), 0xeeee, "push: avail_event untouched");

	/* Across 65535 -> 0. */
	vq.used_idx = 65535;
	vq.used->idx = 65535;
	virtq_push(&vq, 5, 7);
	is_int(vq.used->ring[15].id, 5, "push wrap: entry 65535 in slot 15, id");
	is_int(vq.used->ring[15].len, 7, "push wrap: slot 15 len");
	is_int(vq.used->idx, 0, "push wrap: used index 0");
	is_int(vq.used_idx, 0, "push wrap: vq used_idx 0");
	virtq_push(&vq, 6, UINT32_MAX);
	is_int(vq.used->ring[0].id, 6, "push wrap: entry 0 in slot 0, id");
	is_u64(vq.used->ring[0].len, UINT32_MAX, "push wrap: slot 0 len");
	is_int(vq.used->idx, 1, "push wrap: used index 1");
	ok(!memcmp(&vq.used->ring[14], &fill, sizeof(fill)),
	   "push wrap: slot 14 untouched");
	is_int(avail_event(), 0xeeee, "push wrap: avail_event untouched");
}

/* --- Notifications ---------------------------------------------------------- */

static bool should(uint16_t old, uint16_t now, uint16_t event)
{
	vq.signalled_used = old;
	vq.signalled_valid = true;
	vq.used_idx = now;
	set_used_event(event);
	return virtq_should_interrupt(&vq);
}

static void test_interrupt(void)
{
	static const uint16_t olds[] = { 0, 1, 2, 100, 32767, 32768, 65534, 65535 };
	static const uint16_t deltas[] = { 0, 1, 2, 3, 7, 255, 256, 32767, 32768, 65535 };
	unsigned int cases = 0, wrong = 0, stale = 0;

	/* Without event idx: only the NO_INTERRUPT flag counts. */
	if (!vq_setup(16, false, false))
		return;
	set_used_event(0x1234);
	virtq_push(&vq, 0, 1);
	ok(virtq_should_interrupt(&vq), "no event idx: flags 0 -> interrupt");
	vq.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	virtq_push(&vq, 1, 1);
	ok(!virtq_should_interrupt(&vq), "no event idx: NO_INTERRUPT -> none");
	vq.avail->flags = 0;
	ok(should(5, 6, 100), "no event idx: used_event ignored");
	is_int(vq.signalled_used, 6, "no event idx: signalled_used updated");

	/* With event idx. */
	if (!vq_setup(16, true, false))
		return;
	set_used_event(100);
	virtq_push(&vq, 0, 1);
	ok(virtq_should_interrupt(&vq),
	   "event idx: first time (nothing signalled yet) -> interrupt");
	ok(vq.signalled_valid && vq.signalled_used == 1,
	   "event idx: first time records signalled_used 1");
	virtq_push(&vq, 1, 1);
	set_used_event(0);
	ok(!virtq_should_interrupt(&vq),
	   "event idx: used_event 0 already passed (old 1, new 2) -> none");
	virtq_push(&vq, 2, 1);
	set_used_event(2);
	ok(virtq_should_interrupt(&vq),
	   "event idx: used_event 2 crossed (old 2, new 3) -> interrupt");
	ok(!virtq_should_interrupt(&vq),
	   "event idx: nothing new since (old 3, new 3) -> none");
	virtq_push(&vq, 3, 1);
	set_used_event(4);
	ok(!virtq_should_interrupt(&vq),
	   "event idx: used_event 4 ahead (old 3, new 4) -> none");
	virtq_push(&vq, 4, 1);
	ok(virtq_should_interrupt(&vq),
	   "event idx: used_event 4 reached after a skipped one (old 4, new 5) -> interrupt");

	ok(should(10, 15, 12), "event idx: used_event inside a batch -> interrupt");
	ok(should(10, 15, 10), "event idx: used_event at old -> interrupt");
	ok(should(10, 15, 14), "event idx: used_event at new - 1 -> interrupt");
	ok(!should(10, 15, 15), "event idx: used_event at new -> none");
	ok(!should(10, 15, 9), "event idx: used_event before old -> none");
	ok(should(65534, 2, 65535), "event idx: batch across 65535 -> 0, event before the wrap");
	ok(should(65534, 2, 0), "event idx: batch across the wrap, event 0");
	ok(should(65534, 2, 1), "event idx: batch across the wrap, event 1");
	ok(!should(65534, 2, 2), "event idx: batch across the wrap, event at new");
	ok(!should(65534, 2, 65533), "event idx: batch across the wrap, event before old");
	vq.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	ok(should(10, 11, 10), "event idx: NO_INTERRUPT flag ignored");
	vq.avail->flags = 0;
	vq.signalled_valid = false;
	vq.signalled_used = 0;
	vq.used_idx = 7;
	set_used_event(100);
	ok(virtq_should_interrupt(&vq), "event idx: not yet signalled -> interrupt");

	/* Against the spec's vring_need_event(). */
	for (size_t i = 0; i < ARRAY_SIZE(olds); i++) {
		for (size_t j = 0; j < ARRAY_SIZE(deltas); j++) {
			uint16_t old = olds[i], now = old + deltas[j];
			const uint16_t events[] = {
				now - 3, now - 2, now - 1, now, now + 1, now + 2,
				old - 1, old, old + 1, 0, 1, 32768, 65535,
			};

			for (size_t k = 0; k < ARRAY_SIZE(events); k++) {
				bool got = should(old, now, events[k]);
				bool want = vring_need_event(events[k], now, old);

				cases++;
				if (got != want && !wrong++)
					diag("first mismatch: old %u new %u event %u: got %d, want %d",
					     old, now, events[k], got, want);
				stale += vq.signalled_used != now;
			}
		}
	}
	is_int(wrong, 0, "event idx: agrees with vring_need_event in all %u cases", cases);
	is_int(stale, 0, "event idx: signalled_used follows the used index");
}

static void test_avail_event(void)
{
	if (!vq_setup(8, true, false))
		return;
	for (uint16_t i = 0; i < 8; i++)
		set_desc(i, DATA_GPA, 16, 0, 0);
	set_avail_event(0xabcd);
	is_int(pop(), 0, "avail_event: empty ring");
	/* Empty: ask for the next one, before looking again (see virtq_pop). */
	is_int(avail_event(), 0, "avail_event: an empty ring asks to be told of request 0");
	avail_add(1);
	avail_add(2);
	if (expect_pop("avail_event, first"))
		is_int(avail_event(), 1, "avail_event: 1 after the first request");
	if (expect_pop("avail_event, second"))
		is_int(avail_event(), 2, "avail_event: 2 after the second request");
	is_int(pop(), 0, "avail_event: then empty");
	is_int(avail_event(), 2, "avail_event: still 2");

	set_indices(65535);
	avail_add(3);
	if (expect_pop("avail_event across the wrap"))
		is_int(avail_event(), 0, "avail_event: 0 after request 65535");

	/* Given back unused (virtio-net without a frame): asked for again. */
	avail_add(4);
	if (expect_pop("avail_event, before unpop")) {
		is_int(avail_event(), 1, "avail_event: 1 after request 0");
		virtq_unpop(&vq);
		is_int(avail_event(), 0, "avail_event: 0 again once it is given back");
		if (expect_pop("avail_event, the same again"))
			is_int(avail_event(), 1, "avail_event: the request given back comes again");
	}

	/* Not published without event idx. */
	if (!vq_setup(8, false, false))
		return;
	set_desc(0, DATA_GPA, 16, 0, 0);
	set_avail_event(0xabcd);
	avail_add(0);
	snapshot();
	if (expect_pop("no event idx"))
		ok(unchanged(), "no event idx: avail_event (and all RAM) untouched");
}

/* --- Indirect descriptors ------------------------------------------------- */

static void test_indirect(void)
{
	const char *w;

	if (!vq_setup(8, false, true))
		return;

	/* A table whose chain goes 0 -> 2 -> 1 -> 3. */
	w = "indirect table of 4";
	set_tdesc(TABLE_GPA, 0, DATA_GPA, 10, VRING_DESC_F_NEXT, 2);
	set_tdesc(TABLE_GPA, 2, DATA_GPA + 0x100, 20, VRING_DESC_F_NEXT, 1);
	set_tdesc(TABLE_GPA, 1, DATA_GPA + 0x200, 30,
		  VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 3);
	set_tdesc(TABLE_GPA, 3, DATA_GPA + 0x300, 40, VRING_DESC_F_WRITE, 0);
	set_desc(6, TABLE_GPA, 64, VRING_DESC_F_INDIRECT, 0);
	avail_add(6);
	snapshot();
	if (expect_pop(w)) {
		expect_shape(w, 6, 2, 2, 30, 70);
		expect_buf(w, 0, DATA_GPA, 10);
		expect_buf(w, 1, DATA_GPA + 0x100, 20);
		expect_buf(w, 2, DATA_GPA + 0x200, 30);
		expect_buf(w, 3, DATA_GPA + 0x300, 40);
	}
	ok(unchanged(), "indirect: pop writes no guest RAM");

	/* The WRITE flag on the indirect descriptor itself is ignored. */
	w = "indirect descriptor with WRITE";
	set_tdesc(TABLE_GPA, 0, DATA_GPA, 10, 0, 0);
	set_desc(6, TABLE_GPA, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE, 0);
	avail_add(6);
	if (expect_pop(w))
		expect_shape(w, 6, 1, 0, 10, 0);

	/* Entries after the chain's end are not looked at. */
	w = "table longer than its chain";
	set_tdesc(TABLE_GPA, 0, DATA_GPA, 10, 0, 0);
	set_tdesc(TABLE_GPA, 1, 0, 0, VRING_DESC_F_INDIRECT, 0);
	set_desc(6, TABLE_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	avail_add(6);
	if (expect_pop(w))
		expect_shape(w, 6, 1, 0, 10, 0);

	/* A table at an odd address: the spec asks no alignment of it. */
	w = "table at an odd address";
	set_tdesc(TABLE_GPA + 0x1001, 0, DATA_GPA, 10, VRING_DESC_F_NEXT, 1);
	set_tdesc(TABLE_GPA + 0x1001, 1, DATA_GPA + 0x20, 11, VRING_DESC_F_WRITE, 0);
	set_desc(6, TABLE_GPA + 0x1001, 32, VRING_DESC_F_INDIRECT, 0);
	avail_add(6);
	if (expect_pop(w)) {
		expect_shape(w, 6, 1, 1, 10, 11);
		expect_buf(w, 1, DATA_GPA + 0x20, 11);
	}

	/* A table ending at the top of RAM. */
	w = "table ending at the top of RAM";
	set_tdesc(RAM_SIZE - 32, 0, DATA_GPA, 10, VRING_DESC_F_NEXT, 1);
	set_tdesc(RAM_SIZE - 32, 1, RAM_SIZE - 1, 1, VRING_DESC_F_WRITE, 0);
	set_desc(6, RAM_SIZE - 32, 32, VRING_DESC_F_INDIRECT, 0);
	avail_add(6);
	if (expect_pop(w)) {
		expect_shape(w, 6, 1, 1, 10, 1);
		expect_buf(w, 1, RAM_SIZE - 1, 1);
	}

	/* Largest table: VIRTQ_MAX_CHAIN buffers in one request. */
	w = "table of VIRTQ_MAX_CHAIN";
	for (unsigned int i = 0; i < VIRTQ_MAX_CHAIN; i++)
		set_tdesc(TABLE_GPA, i, DATA_GPA + i, 1 + i % 7,
			  i + 1 < VIRTQ_MAX_CHAIN ? VRING_DESC_F_NEXT : 0, i + 1);
	set_desc(6, TABLE_GPA, 16 * VIRTQ_MAX_CHAIN, VRING_DESC_F_INDIRECT, 0);
	avail_add(6);
	if (expect_pop(w)) {
		uint64_t sum = 0;

		for (unsigned int i = 0; i < VIRTQ_MAX_CHAIN; i++)
			sum += 1 + i % 7;
		expect_shape(w, 6, VIRTQ_MAX_CHAIN, 0, sum, 0);
		expect_buf(w, VIRTQ_MAX_CHAIN - 1, DATA_GPA + VIRTQ_MAX_CHAIN - 1,
			   1 + (VIRTQ_MAX_CHAIN - 1) % 7);
	}

	/* Up to 4 GiB - 1 in one direction, overlapping buffers (allowed). */
	w = "512 buffers of 4 GiB - 1 in all";
	for (unsigned int i = 0; i < 512; i++)
		set_tdesc(TABLE_GPA, i, 0, i ? RAM_SIZE : RAM_SIZE - 1,
			  i < 511 ? VRING_DESC_F_NEXT : 0, i + 1);
	set_desc(6, TABLE_GPA, 16 * 512, VRING_DESC_F_INDIRECT, 0);
	avail_add(6);
	if (expect_pop(w))
		is_u64(req.out_len, UINT32_MAX, "%s: out_len", w);

	/* Direct descriptors, then a table that ends the chain (2.7.5.3.2). */
	w = "chain ending in an indirect table";
	set_tdesc(TABLE_GPA, 0, DATA_GPA + 0x100, 20, VRING_DESC_F_NEXT, 1);
	set_tdesc(TABLE_GPA, 1, DATA_GPA + 0x200, 30, VRING_DESC_F_WRITE, 0);
	set_desc(4, DATA_GPA, 10, VRING_DESC_F_NEXT, 6);
	set_desc(6, TABLE_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	avail_add(4);
	if (expect_pop(w)) {
		expect_shape(w, 4, 2, 1, 30, 30);
		expect_buf(w, 0, DATA_GPA, 10);
		expect_buf(w, 1, DATA_GPA + 0x100, 20);
		expect_buf(w, 2, DATA_GPA + 0x200, 30);
	}
	is_int(vq.last_avail, 8, "indirect: eight requests taken");
}

static void test_indirect_bad(void)
{
	/* Not negotiated. */
	if (!vq_setup(8, true, false))
		return;
	set_tdesc(TABLE_GPA, 0, DATA_GPA, 10, 0, 0);
	set_desc(0, TABLE_GPA, 16, VRING_DESC_F_INDIRECT, 0);
	avail_add(0);
	expect_bad("indirect not negotiated", "not negotiated");

	if (!vq_setup(8, true, true))
		return;
	set_avail_event(0x5555);	/* a refused request must not move it */
	set_tdesc(TABLE_GPA, 0, DATA_GPA, 10, 0, 0);

	set_desc(0, TABLE_GPA, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	set_desc(1, DATA_GPA, 10, 0, 0);
	avail_add(0);
	expect_bad("indirect with NEXT", "inside a chain");

	/* A table may end a chain, but its buffers keep the order. */
	set_desc(2, DATA_GPA, 10, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 3);
	set_desc(3, TABLE_GPA, 16, VRING_DESC_F_INDIRECT, 0);
	vq.avail->ring[0] = 2;
	expect_bad("readable table entry after a writable direct buffer",
		   "readable buffer after a writable");

	set_tdesc(TABLE_GPA, 0, DATA_GPA, 10, VRING_DESC_F_NEXT, 1);
	set_tdesc(TABLE_GPA, 1, TABLE_GPA + 0x1000, 16, VRING_DESC_F_INDIRECT, 0);
	set_tdesc(TABLE_GPA + 0x1000, 0, DATA_GPA, 10, 0, 0);
	set_desc(0, TABLE_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	vq.avail->ring[0] = 0;
	expect_bad("nested indirect table", "inside an indirect table");

	set_tdesc(TABLE_GPA, 0, TABLE_GPA + 0x1000, 16, VRING_DESC_F_INDIRECT, 0);
	expect_bad("nested indirect table first", "inside an indirect table");

	/* Table length. */
	set_tdesc(TABLE_GPA, 0, DATA_GPA, 10, 0, 0);
	set_tdesc(TABLE_GPA, 1, DATA_GPA, 10, 0, 0);
	set_tdesc(TABLE_GPA, 2, DATA_GPA, 10, 0, 0);
	set_desc(0, TABLE_GPA, 40, VRING_DESC_F_INDIRECT, 0);
	expect_bad("indirect table of 40 bytes", "indirect table of 40 bytes");
	set_desc(0, TABLE_GPA, 8, VRING_DESC_F_INDIRECT, 0);
	expect_bad("indirect table of 8 bytes", "indirect table of 8 bytes");
	set_desc(0, TABLE_GPA, 0, VRING_DESC_F_INDIRECT, 0);
	expect_bad("indirect table of 0 bytes", "indirect table of 0 bytes");
	set_desc(0, TABLE_GPA, 16 * (VIRTQ_MAX_CHAIN + 1), VRING_DESC_F_INDIRECT, 0);
	expect_bad("indirect table of VIRTQ_MAX_CHAIN + 1", "indirect table of");
	set_desc(0, TABLE_GPA, 0xfffffff0, VRING_DESC_F_INDIRECT, 0);
	expect_bad("indirect table of 4 GiB - 16", "indirect table of");

	/* Table outside RAM. */
	set_desc(0, RAM_SIZE, 16, VRING_DESC_F_INDIRECT, 0);
	expect_bad("indirect table at the top of RAM", "not inside guest RAM");
	/* A valid first entry leading into the guard: must not be followed. */
	set_tdesc(RAM_SIZE - 16, 0, DATA_GPA, 10, VRING_DESC_F_NEXT, 1);
	set_desc(0, RAM_SIZE - 16, 32, VRING_DESC_F_INDIRECT, 0);
	expect_bad("indirect table straddling the top of RAM", "not inside guest RAM");
	set_desc(0, 1ull << 40, 16, VRING_DESC_F_INDIRECT, 0);
	expect_bad("indirect table at 1 TiB", "not inside guest RAM");
	set_desc(0, 0 - 16ull, 32, VRING_DESC_F_INDIRECT, 0);
	expect_bad("indirect table wrapping 2^64", "not inside guest RAM");

	/* Chains inside the table. */
	set_tdesc(TABLE_GPA, 0, DATA_GPA, 10, VRING_DESC_F_NEXT, 2);
	set_desc(0, TABLE_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	expect_bad("indirect next past the table", "past the table");
	set_tdesc(TABLE_GPA, 0, DATA_GPA, 10, VRING_DESC_F_NEXT, 0xffff);
	expect_bad("indirect next 0xffff", "past the table");
	set_tdesc(TABLE_GPA, 0, DATA_GPA, 10, VRING_DESC_F_NEXT, 1);
	set_tdesc(TABLE_GPA, 1, DATA_GPA, 10, VRING_DESC_F_NEXT, 0);
	expect_bad("indirect loop 0 -> 1 -> 0", "loops");
	set_tdesc(TABLE_GPA, 0, DATA_GPA, 10, VRING_DESC_F_NEXT, 0);
	set_desc(0, TABLE_GPA, 16, VRING_DESC_F_INDIRECT, 0);
	expect_bad("indirect self loop", "loops");
	set_tdesc(TABLE_GPA, 0, DATA_GPA, 10, VRING_DESC_F_NEXT, 1);
	set_tdesc(TABLE_GPA, 1, DATA_GPA, 10, VRING_DESC_F_NEXT, 2);
	set_tdesc(TABLE_GPA, 2, DATA_GPA, 10, VRING_DESC_F_NEXT, 1);
	set_desc(0, TABLE_GPA, 48, VRING_DESC_F_INDIRECT, 0);
	expect_bad("indirect loop 0 -> 1 -> 2 -> 1", "loops");
	/* A full table of VIRTQ_MAX_CHAIN whose last entry goes back to 0. */
	for (unsigned int i = 0; i < VIRTQ_MAX_CHAIN; i++)
		set_tdesc(TABLE_GPA, i, DATA_GPA, 1, VRING_DESC_F_NEXT,
			  (i + 1) % VIRTQ_MAX_CHAIN);
	set_desc(0, TABLE_GPA, 16 * VIRTQ_MAX_CHAIN, VRING_DESC_F_INDIRECT, 0);
	expect_bad("indirect loop through VIRTQ_MAX_CHAIN entries", "loops");

	/* Buffers inside the table. */
	set_tdesc(TABLE_GPA, 0, DATA_GPA, 10, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	set_tdesc(TABLE_GPA, 1, DATA_GPA, 10, 0, 0);
	set_desc(0, TABLE_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	expect_bad("indirect readable after writable", "readable buffer after a writable");
	set_tdesc(TABLE_GPA, 0, DATA_GPA, 10, VRING_DESC_F_NEXT, 1);
	set_tdesc(TABLE_GPA, 1, RAM_SIZE - 8, 9, VRING_DESC_F_WRITE, 0);
	expect_bad("indirect buffer straddling the top", "not inside guest RAM");
	set_tdesc(TABLE_GPA, 1, DATA_GPA, 0, VRING_DESC_F_WRITE, 0);
	expect_bad("indirect buffer of length 0", "not inside guest RAM");

	/* 4 GiB in one direction. */
	for (unsigned int i = 0; i < 512; i++)
		set_tdesc(TABLE_GPA, i, 0, RAM_SIZE, i < 511 ? VRING_DESC_F_NEXT : 0,
			  i + 1);
	set_desc(0, TABLE_GPA, 16 * 512, VRING_DESC_F_INDIRECT, 0);
	expect_bad("request of 4 GiB", "longer than 4 GiB");
	for (unsigned int i = 0; i < 512; i++)
		set_tdesc(TABLE_GPA, i, 0, RAM_SIZE,
			  VRING_DESC_F_WRITE | (i < 511 ? VRING_DESC_F_NEXT : 0), i + 1);
	expect_bad("writable request of 4 GiB", "longer than 4 GiB");
	is_int(vq.avail->idx, 1, "indirect: the one hostile request is still offered");
}

/* --- Hostile direct chains ------------------------------------------------- */

static void test_hostile(void)
{
	static const struct {
		uint64_t addr;
		uint32_t len;
		const char *what;
	} bufs[] = {
		{ RAM_SIZE, 1, "buffer at the top of RAM" },
		{ RAM_SIZE - 8, 16, "buffer straddling the top of RAM" },
		{ RAM_SIZE - 1, 2, "buffer one byte over the top of RAM" },
		{ 0, RAM_SIZE + 1, "buffer one byte longer than RAM" },
		{ DATA_GPA, UINT32_MAX, "buffer of 4 GiB - 1" },
		{ 3 * GIB, 16, "buffer in the MMIO gap" },
		{ 4 * GIB, 16, "buffer at 4 GiB" },
		{ 1ull << 50, 16, "buffer at 2^50" },
		{ UINT64_MAX, 1, "buffer at the last guest physical byte" },
		{ 0 - 16ull, 16, "buffer ending at 2^64" },
		{ 0 - 16ull, 32, "buffer wrapping 2^64" },
		{ 0 - 4096ull, 8192, "buffer wrapping 2^64 into RAM" },
		{ DATA_GPA, 0, "buffer of length 0" },
	};

	if (!vq_setup(8, true, true))
		return;
	set_avail_event(0x5555);	/* a refused request must not move it */

	/* Loops and lengths. */
	set_desc(0, DATA_GPA, 16, VRING_DESC_F_NEXT, 1);
	set_desc(1, DATA_GPA, 16, VRING_DESC_F_NEXT, 0);
	avail_add(0);
	expect_bad("loop 0 -> 1 -> 0", "loops");
	set_desc(0, DATA_GPA, 16, VRING_DESC_F_NEXT, 0);
	expect_bad("self loop", "loops");
	set_desc(0, DATA_GPA, 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 0);
	expect_bad("writable self loop", "loops");
	for (uint16_t i = 0; i < 8; i++)
		set_desc(i, DATA_GPA, 16, VRING_DESC_F_NEXT, (i + 1) % 8);
	expect_bad("chain through all 8 and back", "loops");
	set_desc(0, DATA_GPA, 16, VRING_DESC_F_NEXT, 1);
	set_desc(1, DATA_GPA, 16, VRING_DESC_F_NEXT, 2);
	set_desc(2, DATA_GPA, 16, VRING_DESC_F_NEXT, 1);
	expect_bad("loop 0 -> 1 -> 2 -> 1", "loops");

	/* Indices. */
	vq.avail->ring[0] = 8;
	expect_bad("head 8 in a queue of 8", "past the queue");
	vq.avail->ring[0] = 0xffff;
	expect_bad("head 0xffff", "past the queue");
	vq.avail->ring[0] = 0;
	set_desc(0, DATA_GPA, 16, VRING_DESC_F_NEXT, 8);
	expect_bad("next 8 in a queue of 8", "past the queue");
	set_desc(0, DATA_GPA, 16, VRING_DESC_F_NEXT, 1);
	set_desc(1, DATA_GPA, 16, VRING_DESC_F_NEXT, 0x8000);
	expect_bad("next 0x8000 after one good descriptor", "past the queue");

	/* Buffers. */
	for (size_t i = 0; i < ARRAY_SIZE(bufs); i++) {
		set_desc(0, bufs[i].addr, bufs[i].len, 0, 0);
		expect_bad(bufs[i].what, "not inside guest RAM");
	}
	set_desc(0, DATA_GPA, 16, VRING_DESC_F_NEXT, 1);
	set_desc(1, RAM_SIZE - 8, 16, VRING_DESC_F_WRITE, 0);
	expect_bad("second buffer straddling the top", "not inside guest RAM");
	set_desc(0, DATA_GPA, 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	set_desc(1, DATA_GPA, 16, 0, 0);
	expect_bad("readable after writable", "readable buffer after a writable");
	set_desc(0, DATA_GPA, 16, VRING_DESC_F_NEXT, 1);
	set_desc(1, DATA_GPA, 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
	set_desc(2, DATA_GPA, 16, 0, 0);
	expect_bad("readable, writable, readable", "readable buffer after a writable");

	/* The available index. */
	set_desc(0, DATA_GPA, 16, 0, 0);
	vq.avail->idx = 9;
	expect_bad("avail index 0 -> 9 in a queue of 8", "jumped");
	vq.avail->idx = 0xffff;
	expect_bad("avail index 0 -> 0xffff", "jumped");
	vq.avail->idx = 0x8000;
	expect_bad("avail index 0 -> 0x8000", "jumped");
	set_indices(65530);
	vq.avail->idx = (uint16_t)(65530 + 9);
	expect_bad("avail index 65530 -> 3 (9 across the wrap)", "jumped");
	vq.avail->idx = 65529;
	expect_bad("avail index going back by one", "jumped");
	vq.avail->idx = (uint16_t)(65530 + 8);
	vq.avail->ring[65530 % 8] = 0;
	if (expect_pop("after the hostile ones, a full ring"))
		is_int(req.head, 0, "after the hostile ones: head 0");
}

/* A queue of 1024, the largest: chains as long as it, and no longer. */
static void test_longest_chain(void)
{
	uint16_t n = VIRTQ_MAX_SIZE;

	if (!vq_setup(n, false, false))
		return;
	for (uint16_t i = 0; i < n; i++)
		set_desc(i, DATA_GPA + 4 * i, 4, i + 1 < n ? VRING_DESC_F_NEXT : 0,
			 i + 1);
	avail_add(0);
	if (expect_pop("chain of 1024 in a queue of 1024")) {
		expect_shape("chain of 1024", 0, VIRTQ_MAX_CHAIN, 0,
			     4 * VIRTQ_MAX_CHAIN, 0);
		expect_buf("chain of 1024", VIRTQ_MAX_CHAIN - 1,
			   DATA_GPA + 4 * (VIRTQ_MAX_CHAIN - 1), 4);
	}
	/* The only way to more than 1024 buffers is a loop. */
	set_desc(n - 1, DATA_GPA, 4, VRING_DESC_F_NEXT, 0);
	avail_add(0);
	expect_bad("chain of 1025 in a queue of 1024", "loops or exceeds");
	set_desc(n - 1, DATA_GPA, 4, VRING_DESC_F_NEXT, 1000);
	avail_add(0);
	expect_bad("chain of 1024 looping back to 1000", "loops or exceeds");
}

/* --- Reading and writing requests ------------------------------------------ */

/* Readable buffers of 3, 5 and 8 bytes, writable ones of 4 and 6. */
static const uint64_t rw_gpa[5] = { DATA_GPA + 0x10, DATA_GPA + 0x30,
				    DATA_GPA + 0x50, DATA_GPA + 0x70,
				    DATA_GPA + 0x90 };
static const uint32_t rw_len[5] = { 3, 5, 8, 4, 6 };

static bool rw_setup(void)
{
	if (!vq_setup(8, false, false))
		return false;
	memset(host(DATA_GPA), 0xcc, 0x100);
	for (uint8_t i = 0; i < 16; i++)	/* readable bytes 0x40..0x4f */
		*host(i < 3 ? rw_gpa[0] + i : i < 8 ? rw_gpa[1] + i - 3 :
		      rw_gpa[2] + i - 8) = 0x40 + i;
	set_desc(4, rw_gpa[0], 3, VRING_DESC_F_NEXT, 1);
	set_desc(1, rw_gpa[1], 5, VRING_DESC_F_NEXT, 6);
	set_desc(6, rw_gpa[2], 8, VRING_DESC_F_NEXT, 0);
	set_desc(0, rw_gpa[3], 4, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 7);
	set_desc(7, rw_gpa[4], 6, VRING_DESC_F_WRITE, 0);
	avail_add(4);
	return expect_pop("read/write request");
}

static void test_read(void)
{
	uint8_t want[32], got[32];
	uint32_t n;

	if (!rw_setup())
		return;
	for (int i = 0; i < 16; i++)
		want[i] = 0x40 + i;
	memset(got, 0, sizeof(got));
	is_int(virtq_req_read(&req, 0, got, 16), 16, "read all 16 bytes");
	is_mem(got, want, 16, "read all 16 bytes: contents");

	memset(got, 0, sizeof(got));
	is_int(virtq_req_read(&req, 2, got, 5), 5, "read 5 from 2 (across buffers 0/1)");
	is_mem(got, want + 2, 5, "read 5 from 2: contents");
	memset(got, 0, sizeof(got));
	is_int(virtq_req_read(&req, 1, got, 14), 14, "read 14 from 1 (three buffers)");
	is_mem(got, want + 1, 14, "read 14 from 1: contents");
	memset(got, 0, sizeof(got));
	is_int(virtq_req_read(&req, 3, got, 5), 5, "read buffer 1 exactly");
	is_mem(got, want + 3, 5, "read buffer 1 exactly: contents");

	memset(got, 0xee, sizeof(got));
	n = virtq_req_read(&req, 7, got, sizeof(got));
	is_int(n, 9, "read 32 from 7: short, 9 bytes");
	is_mem(got, want + 7, 9, "read short: contents");
	is_int(got[9], 0xee, "read short: nothing more written");
	is_int(virtq_req_read(&req, 16, got, 4), 0, "read at the end: 0");
	is_int(virtq_req_read(&req, 1000, got, 4), 0, "read past the end: 0");
	is_int(virtq_req_read(&req, UINT64_MAX, got, 4), 0, "read at 2^64 - 1: 0");
	is_int(virtq_req_read(&req, 0, got, 0), 0, "read of 0 bytes: 0");
}

static void test_write(void)
{
	static const uint8_t src[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
					 13, 14, 15, 16 };
	uint8_t before[0x100];
	uint8_t want[0x100];

	if (!rw_setup())
		return;
	memcpy(before, host(DATA_GPA), sizeof(before));

	memcpy(want, before, sizeof(want));
	memcpy(want + 0x70, src, 4);
	memcpy(want + 0x90, src + 4, 6);
	is_int(virtq_req_write(&req, 0, src, 10), 10, "write all 10 bytes");
	is_mem(host(DATA_GPA), want, sizeof(want),
	       "write all 10: only the writable buffers changed");

	memcpy(host(DATA_GPA), before, sizeof(before));
	memcpy(want, before, sizeof(want));
	memcpy(want + 0x72, src, 2);
	memcpy(want + 0x90, src + 2, 3);
	is_int(virtq_req_write(&req, 2, src, 5), 5, "write 5 at 2 (across buffers)");
	is_mem(host(DATA_GPA), want, sizeof(want), "write 5 at 2: contents");

	memcpy(host(DATA_GPA), before, sizeof(before));
	memcpy(want, before, sizeof(want));
	memcpy(want + 0x93, src, 3);
	is_int(virtq_req_write(&req, 7, src, 16), 3, "write 16 at 7: short, 3 bytes");
	is_mem(host(DATA_GPA), want, sizeof(want), "write short: nothing past the buffer");

	memcpy(host(DATA_GPA), before, sizeof(before));
	is_int(virtq_req_write(&req, 10, src, 1), 0, "write at the end: 0");
	is_int(virtq_req_write(&req, 1ull << 40, src, 1), 0, "write far past the end: 0");
	is_int(virtq_req_write(&req, 0, src, 0), 0, "write of 0 bytes: 0");
	is_mem(host(DATA_GPA), before, sizeof(before), "writes of nothing change nothing");
}

static void test_iovec(void)
{
	struct iovec iov[5];
	const struct iovec sentinel = { (void *)0x5a5a, 0x5a5a };
	int n;

	if (!rw_setup())
		return;
	n = virtq_req_iovec(&req, false, 0, 16, iov, 4);
	if (is_int(n, 3, "iovec readable 16: 3 entries")) {
		bool all = true;

		for (int i = 0; i < 3; i++)
			all &= iov[i].iov_base == host(rw_gpa[i]) &&
			       iov[i].iov_len == rw_len[i];
		ok(all, "iovec readable 16: the three buffers");
	}
	n = virtq_req_iovec(&req, false, 2, 5, iov, 4);
	is_int(n, 2, "iovec readable 5 from 2: 2 entries");
	ok(iov[0].iov_base == host(rw_gpa[0] + 2) && iov[0].iov_len == 1 &&
	   iov[1].iov_base == host(rw_gpa[1]) && iov[1].iov_len == 4,
	   "iovec readable 5 from 2: [buf0+2, 1] [buf1, 4]");
	n = virtq_req_iovec(&req, false, 3, 5, iov, 1);
	is_int(n, 1, "iovec readable at a boundary: 1 entry with max 1");
	ok(iov[0].iov_base == host(rw_gpa[1]) && iov[0].iov_len == 5,
	   "iovec readable at a boundary: buffer 1 whole");
	is_int(virtq_req_iovec(&req, false, 0, 16, iov, 3), 3,
	       "iovec readable 16: max 3 is enough");
	iov[2] = sentinel;
	is_int(virtq_req_iovec(&req, false, 0, 16, iov, 2), -E2BIG,
	       "iovec readable 16: max 2 is -E2BIG");
	ok(iov[2].iov_base == sentinel.iov_base && iov[2].iov_len == sentinel.iov_len,
	   "iovec -E2BIG: nothing written past max");
	iov[0] = sentinel;
	is_int(virtq_req_iovec(&req, false, 0, 1, iov, 0), -E2BIG,
	       "iovec max 0 for 1 byte: -E2BIG");
	ok(iov[0].iov_base == sentinel.iov_base, "iovec max 0: nothing written");
	is_int(virtq_req_iovec(&req, false, 0, 17, iov, 5), -EINVAL,
	       "iovec readable 17: -EINVAL (buffers shorter)");
	is_int(virtq_req_iovec(&req, false, 16, 1, iov, 5), -EINVAL,
	       "iovec readable 1 at the end: -EINVAL");
	is_int(virtq_req_iovec(&req, false, UINT64_MAX, 1, iov, 5), -EINVAL,
	       "iovec readable at 2^64 - 1: -EINVAL");
	is_int(virtq_req_iovec(&req, false, 8, UINT64_MAX, iov, 5), -EINVAL,
	       "iovec readable of 2^64 - 1 bytes: -EINVAL");
	is_int(virtq_req_iovec(&req, false, 16, 0, iov, 0), 0,
	       "iovec of 0 bytes at the end: 0 entries");

	n = virtq_req_iovec(&req, true, 0, 10, iov, 4);
	is_int(n, 2, "iovec writable 10: 2 entries");
	ok(iov[0].iov_base == host(rw_gpa[3]) && iov[0].iov_len == 4 &&
	   iov[1].iov_base == host(rw_gpa[4]) && iov[1].iov_len == 6,
	   "iovec writable 10: the two writable buffers");
	n = virtq_req_iovec(&req, true, 5, 5, iov, 4);
	is_int(n, 1, "iovec writable 5 from 5: 1 entry");
	ok(iov[0].iov_base == host(rw_gpa[4] + 1) && iov[0].iov_len == 5,
	   "iovec writable 5 from 5: [buf4+1, 5]");
	is_int(virtq_req_iovec(&req, true, 0, 11, iov, 4), -EINVAL,
	       "iovec writable 11: -EINVAL");
	is_int(virtq_req_iovec(&req, true, 0, 10, iov, 1), -E2BIG,
	       "iovec writable 10 with max 1: -E2BIG");

	/* A request with only writable buffers has nothing to read. */
	set_desc(2, rw_gpa[3], 4, VRING_DESC_F_WRITE, 0);
	avail_add(2);
	if (expect_pop("writable-only request")) {
		uint8_t b;

		is_int(virtq_req_read(&req, 0, &b, 1), 0, "writable-only: read 0");
		is_int(virtq_req_iovec(&req, false, 0, 1, iov, 4), -EINVAL,
		       "writable-only: readable iovec -EINVAL");
		is_int(virtq_req_iovec(&req, true, 0, 4, iov, 4), 1,
		       "writable-only: writable iovec 1");
	}
	/* And one with only readable buffers, nothing to write. */
	set_desc(2, rw_gpa[0], 3, 0, 0);
	avail_add(2);
	if (expect_pop("readable-only request")) {
		uint8_t b = 0;

		is_int(virtq_req_write(&req, 0, &b, 1), 0, "readable-only: write 0");
		is_int(virtq_req_iovec(&req, true, 0, 1, iov, 4), -EINVAL,
		       "readable-only: writable iovec -EINVAL");
	}
}

/* --- Across the MMIO gap ----------------------------------------------------- */

static void test_gap(void)
{
	struct guest_mem small = mem;
	struct range small_ranges[3];
	unsigned int small_nr = nr_ranges;
	uint64_t reserve_len = GAP_RAM + 2 * GUARD;
	uint8_t *r;
	bool prot;

	memcpy(small_ranges, ranges, sizeof(ranges));
	r = mmap(NULL, reserve_len, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!ok(r != MAP_FAILED, "gap: reserve 3 GiB + 4 MiB of address space"))
		return;
	guest_mem_layout(&mem, GAP_RAM);
	mem.base = r + GUARD;
	/* Low RAM's first MiB, its last 64 KiB, high RAM's first 64 KiB. */
	ranges[0] = (struct range){ 0, MIB };
	ranges[1] = (struct range){ 3 * GIB - GAP_WINDOW, 2 * GAP_WINDOW };
	nr_ranges = 2;
	prot = !mprotect(mem.base, MIB, PROT_READ | PROT_WRITE) &&
	       !mprotect(mem.base + 3 * GIB - GAP_WINDOW, 2 * GAP_WINDOW,
			 PROT_READ | PROT_WRITE);
	if (!ok(prot, "gap: make the touched pages accessible"))
		goto out;
	is_int(mem.nr_regions, 2, "gap: two RAM regions");

	/* Rings. */
	is_int(enable(16, 4 * GIB, AVAIL_GPA, USED_GPA), 0,
	       "gap: descriptors at 4 GiB accepted");
	is_int(enable(16, 3 * GIB - 128, AVAIL_GPA, USED_GPA), -EINVAL,
	       "gap: descriptors straddling the gap refused");
	like(e.msg, "not inside guest RAM", "gap: straddling ring message");
	is_int(enable(16, 3 * GIB, AVAIL_GPA, USED_GPA), -EINVAL,
	       "gap: descriptors in the gap refused");
	is_int(enable(16, DESC_GPA, AVAIL_GPA, 4 * GIB - 64), -EINVAL,
	       "gap: used ring from the gap into high RAM refused");

	if (!vq_setup(16, true, true))
		goto out;
	/* Low and high RAM in one request. */
	set_desc(0, 3 * GIB - 16, 16, VRING_DESC_F_NEXT, 1);
	set_desc(1, 4 * GIB, 16, VRING_DESC_F_WRITE, 0);
	avail_add(0);
	if (expect_pop("gap: last bytes below, first above")) {
		is_ptr(req.buf[0].addr, mem.base + 3 * GIB - 16,
		       "gap: low buffer at base + gpa");
		is_ptr(req.buf[1].addr, mem.base + 3 * GIB,
		       "gap: high buffer at base + 3 GiB + (gpa - 4 GiB)");
	}
	set_desc(0, 3 * GIB - 16, 32, 0, 0);
	avail_add(0);
	expect_bad("gap: buffer straddling the start of the gap", "not inside guest RAM");
	set_desc(0, 3 * GIB - 8, GIB + 16, 0, 0);
	expect_bad("gap: buffer spanning the whole gap", "not inside guest RAM");
	set_desc(0, 3 * GIB, 16, 0, 0);
	expect_bad("gap: buffer inside the gap", "not inside guest RAM");
	set_desc(0, 4 * GIB - 8, 16, 0, 0);
	expect_bad("gap: buffer straddling the end of the gap", "not inside guest RAM");
	set_desc(0, 4 * GIB + 2 * MIB - 8, 16, 0, 0);
	expect_bad("gap: buffer straddling the top of high RAM", "not inside guest RAM");

	/* An indirect table across the gap: its host bytes are contiguous. */
	set_tdesc(3 * GIB - 16, 0, DATA_GPA, 16, VRING_DESC_F_NEXT, 1);
	/* Its second entry would be at host base + 3 GiB: high RAM's first. */
	set_tdesc(4 * GIB, 0, DATA_GPA, 16, VRING_DESC_F_WRITE, 0);
	set_desc(0, 3 * GIB - 16, 32, VRING_DESC_F_INDIRECT, 0);
	expect_bad("gap: indirect table straddling the gap", "not inside guest RAM");
	set_tdesc(4 * GIB, 0, DATA_GPA, 16, VRING_DESC_F_NEXT, 1);
	set_tdesc(4 * GIB, 1, 3 * GIB - 1, 1, VRING_DESC_F_WRITE, 0);
	set_desc(0, 4 * GIB, 32, VRING_DESC_F_INDIRECT, 0);
	if (expect_pop("gap: indirect table in high RAM"))
		is_ptr(req.buf[1].addr, mem.base + 3 * GIB - 1,
		       "gap: indirect buffer at the last byte below the gap");

out:
	munmap(r, reserve_len);
	mem = small;
	memcpy(ranges, small_ranges, sizeof(ranges));
	nr_ranges = small_nr;
}

int main(void)
{
	uint64_t len = RAM_SIZE + 2 * GUARD;
	uint8_t *r = mmap(NULL, len, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	shadow = malloc(RAM_SIZE);
	if (!ok(r != MAP_FAILED && shadow, "map 8 MiB of guest RAM between guards"))
		return done_testing();
	if (!ok(!mprotect(r + GUARD, RAM_SIZE, PROT_READ | PROT_WRITE),
		"make guest RAM accessible"))
		return done_testing();
	guest_mem_layout(&mem, RAM_SIZE);
	mem.base = r + GUARD;
	ranges[0] = (struct range){ 0, RAM_SIZE };
	nr_ranges = 1;

	test_enable();
	test_pop_basic();
	test_pop_order();
	test_pop_wrap();
	test_push();
	test_interrupt();
	test_avail_event();
	test_indirect();
	test_indirect_bad();
	test_hostile();
	test_longest_chain();
	test_read();
	test_write();
	test_iovec();
	test_gap();

	munmap(r, len);
	free(shadow);
	return done_testing();
}
