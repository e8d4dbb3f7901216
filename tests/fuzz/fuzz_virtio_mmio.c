// SPDX-License-Identifier: MIT
/*
 * The virtio-mmio transport (devices/virtio_mmio.c, virtio_state.c) and the
 * devices behind it -- virtio-blk, virtio-rng, virtio-console, virtio-balloon
 * -- driven by sequences of register accesses of any size and offset,
 * guest memory writes, queue notifications (through the ioeventfd path),
 * console input, balloon targets, pauses and snapshot round trips.
 *
 * Input: operations until the input ends; d is a device index (modulo the
 * number of devices), q a queue.
 *   op 0  ACCESS u8 d, u16 offset, u8 size (1 << n % 4), u8 write, u64 value
 *   op 1  WRITE  u8 d, u8 register (x 4), u32 value
 *   op 2  READ   u8 d, u16 offset
 *   op 3  MEM    u16 gpa, u8 len, len bytes
 *   op 4  SETUP  u8 d, u64 features, u8 queue size (1 << n % 9)
 *                bring device d up as a driver does, every queue at its slot
 *   op 5  DESC   u8 d, u8 q, u8 i, u32 addr, u32 len, u16 flags, u16 next
 *   op 6  AVAIL  u8 d, u8 q, u16 head         then notify q
 *   op 7  INPUT  u8 len, len bytes            console input
 *   op 8  TARGET u32 pages                    balloon target (control socket)
 *   op 9  PAUSE                               pause and resume the devices
 *   op 10 SNAP                                snapshot round trip
 * Queue q of device d has its rings in an 8 KiB slot at (d * 4 + q) * 8 KiB:
 * descriptors, then the available ring at +4 KiB, the used ring at +5 KiB.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define RAM_SIZE (256 * 1024)
#define SLOT_SIZE 0x2000ull
#define SLOT_AVAIL 0x1000ull
#define SLOT_USED 0x1400ull

struct mmio_run {
	struct vm vm;
	struct vm_config cfg;
	struct guest_mem mem;
};

static struct virtio_dev *pick(struct mmio_run *r, struct fuzz_input *in)
{
	return r->vm.virtio[fin_u8(in) % r->vm.nr_virtio];
}

static uint64_t slot(unsigned int d, unsigned int q)
{
	return (d * 4ull + q) * SLOT_SIZE;
}

static unsigned int dev_index(struct mmio_run *r, const struct virtio_dev *vd)
{
	unsigned int d = 0;

	while (r->vm.virtio[d] != vd)
		d++;
	return d;
}

static void setup(struct mmio_run *r, struct fuzz_input *in)
{
	struct virtio_dev *vd = pick(r, in);
	unsigned int d = dev_index(r, vd);
	uint64_t features = fin_u64(in);
	uint16_t size = 1u << (fin_u8(in) % 9);
	struct fuzz_queue q[4];
	unsigned int nr = MIN(vd->ops->nr_queues, 4u);

	for (unsigned int i = 0; i < nr; i++)
		q[i] = (struct fuzz_queue){ size, slot(d, i), slot(d, i) + SLOT_AVAIL,
					    slot(d, i) + SLOT_USED };
	fuzz_virtio_setup(&r->vm, vd, features, nr, q);
}

/* Queue q's size as the driver set it, or 0 when q is not usable. */
static uint16_t queue_size(const struct virtio_dev *vd, unsigned int q)
{
	return q < vd->ops->nr_queues && q < 4 && vd->vq[q].size ? vd->vq[q].size : 0;
}

static void set_desc(struct mmio_run *r, struct fuzz_input *in)
{
	struct virtio_dev *vd = pick(r, in);
	unsigned int q = fin_u8(in) % 4, i = fin_u8(in);
	uint16_t size = queue_size(vd, q);
	struct vring_desc d;

	d.addr = fin_u32(in);
	d.len = fin_u32(in);
	d.flags = fin_u16(in);
	d.next = fin_u16(in);
	if (size)
		fuzz_mem_write(&r->mem, slot(dev_index(r, vd), q) + 16ull * (i % size),
			       (const uint8_t *)&d, sizeof(d));
}

static void avail_notify(struct mmio_run *r, struct fuzz_input *in)
{
	struct virtio_dev *vd = pick(r, in);
	unsigned int q = fin_u8(in) % 4;
	uint16_t head = fin_u16(in), size = queue_size(vd, q);

	if (size)
		fuzz_avail_notify(&r->vm, &r->mem, vd, q,
				  slot(dev_index(r, vd), q) + SLOT_AVAIL, size, head);
}

static void mmio_access(struct mmio_run *r, struct fuzz_input *in)
{
	struct virtio_dev *vd = pick(r, in);
	uint16_t off = fin_u16(in);
	uint32_t len = 1u << (fin_u8(in) % 4);
	bool write = fin_u8(in) & 1;
	uint64_t v = fin_u64(in);

	/* Offsets past the window reach the next device, or nothing. */
	fuzz_vm_mmio(&r->vm, vd->base + off, (uint8_t *)&v, len, write);
}

static void run_op(struct mmio_run *r, struct fuzz_input *in)
{
	struct virtio_dev *vd;
	const uint8_t *bytes;
	uint64_t gpa;
	uint32_t v;
	size_t n;

	switch (fin_u8(in) % 11) {
	case 0:
		mmio_access(r, in);
		break;
	case 1:
		vd = pick(r, in);
		gpa = vd->base + (fin_u8(in) & 0x7f) * 4;
		fuzz_mmio_write32(&r->vm, gpa, fin_u32(in));
		break;
	case 2:
		vd = pick(r, in);
		fuzz_mmio_read32(&r->vm, vd->base + fin_u16(in) % VIRTIO_MMIO_WINDOW);
		break;
	case 3:
		gpa = fin_u16(in) * 4ull;
		n = fin_bytes(in, fin_u8(in), &bytes);
		fuzz_mem_write(&r->mem, gpa, bytes, n);
		break;
	case 4:
		setup(r, in);
		break;
	case 5:
		set_desc(r, in);
		break;
	case 6:
		avail_notify(r, in);
		break;
	case 7:
		n = fin_bytes(in, fin_u8(in), &bytes);
		r->vm.console.sink.input(r->vm.console.sink.opaque, bytes, n);
		break;
	case 8:
		v = fin_u32(in);
		fuzz_vm_control(&r->vm, "balloon", v);
		break;
	case 9:
		vm_pause(&r->vm);
		vm_resume(&r->vm);
		break;
	case 10:
		fuzz_vm_roundtrip(&r->vm, &r->cfg, in);
		break;
	}
	fuzz_vm_poll(&r->vm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { .data = data, .len = size };
	static struct mmio_run r;
	struct err e = { 0 };

	r.cfg = (struct vm_config){
		.boot.cmdline = "", .machine.nr_vcpus = 1, .dev.console = CONSOLE_VIRTIO,
		.dev.virtio_console = true,
	};
	fuzz_dev_option(&r.cfg.dev, "rng", NULL);
	fuzz_dev_option(&r.cfg.dev, "balloon", NULL);
	fuzz_add_disk(&r.cfg.dev, 0, false);
	fuzz_disks_reset();
	if (fuzz_mem_init(&r.mem, RAM_SIZE) ||
	    fuzz_vm_create(&r.vm, &r.cfg, &r.mem, &e))
		fuzz_fail(__FILE__, __LINE__, "setup", "%s", e.msg);
	while (!fin_done(&in))
		run_op(&r, &in);
	fuzz_vm_destroy(&r.vm);
	fuzz_mem_free(&r.mem);
	return 0;
}
