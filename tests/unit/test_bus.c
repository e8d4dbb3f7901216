// SPDX-License-Identifier: MIT
/*
 * The port/MMIO bus: registration keeps ranges sorted and disjoint, and an
 * access reaches the one device covering all of it, at the right offset.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "device.h"
#include "tap.h"
#include "util.h"

/* A device that records the last access it saw. */
struct fake_dev {
	struct device dev;
	unsigned int id;
	unsigned int reads;
	unsigned int writes;
	uint64_t offset;
	uint32_t len;
	uint8_t data[8];
};

static struct fake_dev *to_fake(struct device *dev)
{
	return (struct fake_dev *)((char *)dev - offsetof(struct fake_dev, dev));
}

/* Reads return id, then the offset's low byte, then 0xd0, 0xd1, ... */
static void fake_read(struct device *dev, uint64_t offset, uint8_t *data,
		      uint32_t len)
{
	struct fake_dev *f = to_fake(dev);

	f->reads++;
	f->offset = offset;
	f->len = len;
	for (uint32_t i = 0; i < len; i++)
		data[i] = 0xd0 + i;
	data[0] = f->id;
	if (len > 1)
		data[1] = (uint8_t)offset;
}

static void fake_write(struct device *dev, uint64_t offset,
		       const uint8_t *data, uint32_t len)
{
	struct fake_dev *f = to_fake(dev);

	f->writes++;
	f->offset = offset;
	f->len = len;
	memcpy(f->data, data, MIN(len, sizeof(f->data)));
}

static const struct device_ops fake_ops = {
	.name = "fake",
	.read = fake_read,
	.write = fake_write,
};

static void fake_init(struct fake_dev *f, unsigned int id)
{
	memset(f, 0, sizeof(*f));
	f->id = id;
	device_init(&f->dev, &fake_ops, NULL);
}

static unsigned int fake_calls(const struct fake_dev *f, unsigned int n)
{
	unsigned int calls = 0;

	for (unsigned int i = 0; i < n; i++)
		calls += f[i].reads + f[i].writes;
	return calls;
}

enum { DEV_A, DEV_B, DEV_C, DEV_D, DEV_E, NR_DEVS };

/*
 * A [0x100, 0x110)  D [0x110, 0x120)  B [0x200, 0x210)  C [0x300, 0x310)
 * E [0x10, 0x20), registered in the order C, A, B, E, D.
 */
static void setup_bus(struct bus *bus, struct fake_dev *devs)
{
	static const struct { unsigned int dev; uint64_t base; } regs[] = {
		{ DEV_C, 0x300 }, { DEV_A, 0x100 }, { DEV_B, 0x200 },
		{ DEV_E, 0x10 }, { DEV_D, 0x110 },
	};

	*bus = (struct bus){ .name = "port" };
	for (unsigned int i = 0; i < NR_DEVS; i++)
		fake_init(&devs[i], i + 1);
	for (unsigned int i = 0; i < ARRAY_SIZE(regs); i++)
		is_int(bus_register(bus, regs[i].base, 0x10,
				    &devs[regs[i].dev].dev), 0,
		       "register [%#llx, +0x10)",
		       (unsigned long long)regs[i].base);
}

static void test_register_order(void)
{
	static const struct { uint64_t base; unsigned int dev; } want[] = {
		{ 0x10, DEV_E }, { 0x100, DEV_A }, { 0x110, DEV_D },
		{ 0x200, DEV_B }, { 0x300, DEV_C },
	};
	struct fake_dev devs[NR_DEVS];
	struct bus bus;

	setup_bus(&bus, devs);
	if (!is_int(bus.nr, ARRAY_SIZE(want), "five ranges registered"))
		return;
	for (unsigned int i = 0; i < ARRAY_SIZE(want); i++) {
		is_u64(bus.ranges[i].base, want[i].base, "range %u base", i);
		is_u64(bus.ranges[i].len, 0x10, "range %u len", i);
		ok(bus.ranges[i].dev == &devs[want[i].dev].dev,
		   "range %u device", i);
	}
	bus_free(&bus);
	is_int(bus.nr, 0, "bus_free empties the bus");
	ok(bus.ranges == NULL, "bus_free frees the ranges");
}

static void test_register_rejects(void)
{
	static const struct { uint64_t base, len; int ret; const char *what; }
	cases[] = {
		{ 0x100, 0x10, -EBUSY, "same range again" },
		{ 0x10f, 0x2, -EBUSY, "overlapping the end of a range" },
		{ 0xf8, 0x10, -EBUSY, "overlapping the start of a range" },
		{ 0x204, 0x4, -EBUSY, "inside a range" },
		{ 0x1f0, 0x40, -EBUSY, "around a range" },
		{ 0x150, 0x1c0, -EBUSY, "around two ranges" },
		{ 0x0, 0x400, -EBUSY, "around every range" },
		{ 0x30f, 0x1, -EBUSY, "last byte of the last range" },
		{ 0x500, 0, -EINVAL, "empty" },
		{ 0, 0, -EINVAL, "empty at 0" },
		{ UINT64_MAX - 1, 4, -EINVAL, "wrapping past 2^64" },
		{ 0x1000, UINT64_MAX, -EINVAL, "huge, wrapping" },
	};
	struct fake_dev devs[NR_DEVS], extra;
	struct bus bus;

	setup_bus(&bus, devs);
	fake_init(&extra, 99);
	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++)
		is_int(bus_register(&bus, cases[i].base, cases[i].len,
				    &extra.dev), cases[i].ret,
		       "register %s [%#llx, +%#llx) is %d", cases[i].what,
		       (unsigned long long)cases[i].base,
		       (unsigned long long)cases[i].len, cases[i].ret);
	is_int(bus.nr, NR_DEVS, "rejected ranges are not added");

	is_int(bus_register(&bus, 0x120, 0xe0, &extra.dev), 0,
	       "a range filling the hole between two exactly fits");
	is_int(bus_register(&bus, 0x310, 0x1000, &extra.dev), 0,
	       "a range right after the last one fits");
	is_int(bus.nr, NR_DEVS + 2, "both added");
	bus_free(&bus);
}

static void test_access_dispatch(void)
{
	struct fake_dev devs[NR_DEVS];
	uint8_t data[8], want[8] = { 0 };
	struct bus bus;

	setup_bus(&bus, devs);

	memset(data, 0, sizeof(data));
	ok(bus_access(&bus, 0x204, data, 4, false), "read 4 at 0x204 handled");
	is_int(devs[DEV_B].reads, 1, "read reached B");
	is_u64(devs[DEV_B].offset, 4, "B saw offset 4");
	is_int(devs[DEV_B].len, 4, "B saw len 4");
	want[0] = DEV_B + 1;
	want[1] = 4;
	want[2] = 0xd2;
	want[3] = 0xd3;
	is_mem(data, want, sizeof(data), "read data came from B, 4 bytes only");
	is_int(fake_calls(devs, NR_DEVS), 1, "no other device called");

	data[0] = 0x5a;
	ok(bus_access(&bus, 0x100, data, 1, true), "write 1 at 0x100 handled");
	is_int(devs[DEV_A].writes, 1, "write reached A");
	is_u64(devs[DEV_A].offset, 0, "A saw offset 0");
	is_int(devs[DEV_A].len, 1, "A saw len 1");
	is_int(devs[DEV_A].data[0], 0x5a, "A got the byte written");

	ok(bus_access(&bus, 0x10f, data, 1, true), "write at 0x10f handled");
	is_u64(devs[DEV_A].offset, 0xf, "last byte of A: offset 0xf");
	ok(bus_access(&bus, 0x110, data, 1, true), "write at 0x110 handled");
	is_int(devs[DEV_D].writes, 1, "first byte after A goes to D");
	is_u64(devs[DEV_D].offset, 0, "D saw offset 0");

	memcpy(data, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	ok(bus_access(&bus, 0x308, data, 8, true), "write 8 ending at C's end");
	is_u64(devs[DEV_C].offset, 8, "C saw offset 8");
	is_int(devs[DEV_C].len, 8, "C saw len 8");
	is_mem(devs[DEV_C].data, "\x11\x22\x33\x44\x55\x66\x77\x88", 8,
	       "C got the 8 bytes written");
	bus_free(&bus);
}

static void test_access_refused(void)
{
	static const struct { uint64_t addr; uint32_t len; const char *what; }
	cases[] = {
		{ 0x10e, 4, "straddling A and D (adjacent)" },
		{ 0x10f, 2, "last byte of A and first of D" },
		{ 0x30c, 8, "running past the end of C" },
		{ 0x30f, 2, "last byte of C and beyond" },
		{ 0x1fe, 4, "hole into the start of B" },
		{ 0x0, 1, "hole at 0" },
		{ 0x20, 1, "hole right after E" },
		{ 0x180, 4, "hole between D and B" },
		{ 0x310, 1, "right after the last range" },
		{ 0xffff, 1, "far above every range" },
		{ UINT64_MAX, 1, "last address" },
		{ UINT64_MAX - 3, 8, "wrapping past 2^64" },
	};
	struct fake_dev devs[NR_DEVS];
	struct bus bus;

	setup_bus(&bus, devs);
	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t data[8], want[8];

		memset(data, 0xee, sizeof(data));
		memset(want, 0xee, sizeof(want));
		ok(!bus_access(&bus, cases[i].addr, data, cases[i].len, false),
		   "read %s (%#llx, %u) refused", cases[i].what,
		   (unsigned long long)cases[i].addr, cases[i].len);
		is_mem(data, want, sizeof(data), "%s: data untouched",
		       cases[i].what);
		ok(!bus_access(&bus, cases[i].addr, data, cases[i].len, true),
		   "write %s refused", cases[i].what);
	}
	is_int(fake_calls(devs, NR_DEVS), 0, "no device was called");
	bus_free(&bus);

	ok(!bus_access(&bus, 0x100, (uint8_t[1]){ 0 }, 1, false),
	   "an empty bus handles nothing");
}

/* Many ranges registered out of order: each access finds its own device. */
static void test_access_many(void)
{
	enum { N = 50 };
	struct fake_dev devs[N];
	struct bus bus = { .name = "MMIO" };
	unsigned int bad_reg = 0, bad_route = 0;

	for (unsigned int k = 0; k < N; k++) {
		unsigned int i = (k * 37) % N;	/* a permutation of 0..N-1 */

		fake_init(&devs[i], i);
		if (bus_register(&bus, 0xfec00000ull + i * 0x100, 0x20,
				 &devs[i].dev))
			bad_reg++;
	}
	is_int(bad_reg, 0, "%d ranges registered out of order", N);
	for (unsigned int i = 0; i < N; i++) {
		uint8_t data[4];

		if (!bus_access(&bus, 0xfec00000ull + i * 0x100 + 0x1c, data,
				4, false) ||
		    devs[i].reads != 1 || devs[i].offset != 0x1c ||
		    data[0] != i)
			bad_route++;
	}
	is_int(bad_route, 0, "every access reached its own device");
	is_int(fake_calls(devs, N), N, "exactly one call per access");
	ok(!bus_access(&bus, 0xfec00000ull + 0x20, (uint8_t[4]){ 0 }, 4, false),
	   "the hole after the first range is refused");
	bus_free(&bus);
}

int main(void)
{
	test_register_order();
	test_register_rejects();
	test_access_dispatch();
	test_access_refused();
	test_access_many();
	return done_testing();
}
