// SPDX-License-Identifier: MIT
/*
 * virtio-blk requests (devices/virtio_blk.c) on a 64 KiB disk (a memfd),
 * through the real transport: the harness brings the device up as a driver
 * would, then the input makes requests, well formed or not, and notifies.
 *
 * Input: a header, then operations until the input ends.
 *   header: u8 queue size (1 << n % 9), u64 features to accept of those
 *           offered, u8 flags (bit 0: read-only disk)
 *   op 0  MEM    u16 gpa, u8 len, len bytes      the driver writes RAM
 *   op 1  DESC   u8 i, u32 addr, u32 len, u16 flags, u16 next
 *   op 2  AVAIL  u16 head                         and notify queue 0
 *   op 3  REQ    u8 type, u64 sector, u16 len, u8 segments, u8 head
 *                a request laid out as Linux does: header, data in up to
 *                4 segments, status byte; made available and notified
 *   op 4  CONFIG u8 offset, u8 size               config space read
 *   op 5  REG    u8 register, u32 value           a transport register
 *   op 6  RANGES u8 type, u8 n, n x (u64 sector, u32 count, u32 flags)
 *                DISCARD or WRITE_ZEROES with n segments
 *   op 7  SNAP   a snapshot round trip (fuzz_vm_roundtrip)
 * Rings: descriptors at 0, available ring at 0x1000, used ring at 0x1400;
 * requests built by REQ and RANGES use 0x2000 and up.
 */
#include <linux/virtio_blk.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define RAM_SIZE (64 * 1024)
#define DESC_GPA 0x0ull
#define AVAIL_GPA 0x1000ull
#define USED_GPA 0x1400ull
#define HDR_GPA 0x2000ull
#define STATUS_GPA 0x2100ull
#define DATA_GPA 0x3000ull

static const uint32_t req_types[] = {
	VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH,
	VIRTIO_BLK_T_GET_ID, VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES,
};

struct blk_run {
	struct vm vm;
	struct vm_config cfg;
	struct guest_mem mem;
	uint16_t qsize;
};

static struct virtio_dev *blk_dev(struct blk_run *r)
{
	return r->vm.virtio[0];
}

static struct vring_desc *desc(struct blk_run *r, uint16_t i)
{
	return guest_mem_ptr(&r->mem, DESC_GPA + 16ull * (i % r->qsize), 16);
}

static void set_desc(struct blk_run *r, uint16_t i, uint64_t addr,
		     uint32_t len, uint16_t flags, uint16_t next)
{
	*desc(r, i) = (struct vring_desc){ addr, len, flags, next % r->qsize };
}

/* Make head available and notify, as the driver does. */
static void avail_notify(struct blk_run *r, uint16_t head)
{
	struct vring_avail *avail = guest_mem_ptr(&r->mem, AVAIL_GPA, 4);
	uint16_t idx = avail->idx;

	*(uint16_t *)guest_mem_ptr(&r->mem, AVAIL_GPA + 4 + 2ull * (idx % r->qsize), 2) = head;
	__atomic_store_n(&avail->idx, (uint16_t)(idx + 1), __ATOMIC_RELEASE);
	fuzz_mmio_write32(&r->vm, blk_dev(r)->base + VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	fuzz_vm_poll(&r->vm);
	if (fuzz_verbose) {
		const struct vring_used *used = guest_mem_ptr(&r->mem, USED_GPA, 4);
		const struct vring_used_elem *el = guest_mem_ptr(&r->mem,
			USED_GPA + 4 + 8ull * ((used->idx - 1) % r->qsize), 8);

		fuzz_note("used idx %u: head %u, %u bytes; status byte %u",
			  used->idx, el->id, el->len,
			  *(uint8_t *)guest_mem_ptr(&r->mem, STATUS_GPA, 1));
	}
}

/* Header, data segments, status: the chain Linux's virtio_blk makes. */
static void make_request(struct blk_run *r, struct fuzz_input *in)
{
	uint32_t type = req_types[fin_u8(in) % ARRAY_SIZE(req_types)];
	struct virtio_blk_outhdr hdr = { .type = type, .sector = fin_u64(in) };
	uint32_t len = fin_u16(in) % (RAM_SIZE - DATA_GPA);
	unsigned int segs = 1 + fin_u8(in) % 4;
	uint16_t head = fin_u8(in), i = head;
	bool to_dev = type != VIRTIO_BLK_T_IN && type != VIRTIO_BLK_T_GET_ID;
	uint32_t seg_len = len / segs, off = 0;

	fuzz_mem_write(&r->mem, HDR_GPA, (const uint8_t *)&hdr, sizeof(hdr));
	set_desc(r, i, HDR_GPA, sizeof(hdr), VRING_DESC_F_NEXT, i + 1);
	for (unsigned int s = 0; len && s < segs; s++) {
		uint32_t n = s == segs - 1 ? len - off : seg_len;

		if (!n)
			continue;
		i++;
		set_desc(r, i, DATA_GPA + off, n,
			 VRING_DESC_F_NEXT | (to_dev ? 0 : VRING_DESC_F_WRITE), i + 1);
		off += n;
	}
	i++;
	set_desc(r, i, STATUS_GPA, 1, VRING_DESC_F_WRITE, 0);
	avail_notify(r, head);
}

/* DISCARD or WRITE_ZEROES with n range segments after the header. */
static void make_ranges(struct blk_run *r, struct fuzz_input *in)
{
	struct virtio_blk_outhdr hdr = {
		.type = fin_u8(in) & 1 ? VIRTIO_BLK_T_WRITE_ZEROES : VIRTIO_BLK_T_DISCARD,
	};
	unsigned int n = fin_u8(in) % 40;

	for (unsigned int k = 0; k < n; k++) {
		struct virtio_blk_discard_write_zeroes seg = {
			.sector = fin_u64(in), .num_sectors = fin_u32(in),
			.flags = fin_u32(in) };

		fuzz_mem_write(&r->mem, DATA_GPA + k * sizeof(seg),
			       (const uint8_t *)&seg, sizeof(seg));
	}
	fuzz_mem_write(&r->mem, HDR_GPA, (const uint8_t *)&hdr, sizeof(hdr));
	set_desc(r, 0, HDR_GPA, sizeof(hdr), VRING_DESC_F_NEXT, 1);
	set_desc(r, 1, DATA_GPA, n * 16, VRING_DESC_F_NEXT, 2);
	set_desc(r, 2, STATUS_GPA, 1, VRING_DESC_F_WRITE, 0);
	avail_notify(r, 0);
}

static void run_op(struct blk_run *r, struct fuzz_input *in)
{
	uint64_t base = blk_dev(r)->base, gpa;
	const uint8_t *bytes;
	uint8_t data[8];
	uint32_t addr, len, v;
	uint16_t i, flags;

	switch (fin_u8(in) % 8) {
	case 0:
		gpa = fin_u16(in);
		len = fin_bytes(in, fin_u8(in), &bytes);
		fuzz_mem_write(&r->mem, gpa, bytes, len);
		break;
	case 1:
		i = fin_u8(in);
		addr = fin_u32(in);
		len = fin_u32(in);
		flags = fin_u16(in);
		set_desc(r, i, addr, len, flags, fin_u16(in));
		break;
	case 2:
		avail_notify(r, fin_u16(in));
		break;
	case 3:
		make_request(r, in);
		break;
	case 4:
		addr = fin_u8(in);
		fuzz_vm_mmio(&r->vm, base + VIRTIO_MMIO_CONFIG + addr, data,
			     1u << (fin_u8(in) % 4), false);
		break;
	case 5:
		addr = (fin_u8(in) & 0x3f) * 4;
		v = fin_u32(in);
		fuzz_mmio_write32(&r->vm, base + addr, v);
		fuzz_vm_poll(&r->vm);
		break;
	case 6:
		make_ranges(r, in);
		break;
	case 7:
		fuzz_vm_roundtrip(&r->vm, &r->cfg, in);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { .data = data, .len = size };
	static struct blk_run r;
	struct fuzz_queue q;
	struct err e = { 0 };
	uint64_t features;

	r.qsize = 1u << (fin_u8(&in) % 9);
	features = fin_u64(&in);
	r.cfg = (struct vm_config){
		.boot.cmdline = "", .machine.nr_vcpus = 1, .dev.console = CONSOLE_NONE,
	};
	fuzz_add_disk(&r.cfg.dev, 0, fin_u8(&in) & 1);
	fuzz_disks_reset();
	if (fuzz_mem_init(&r.mem, RAM_SIZE) ||
	    fuzz_vm_create(&r.vm, &r.cfg, &r.mem, &e))
		fuzz_fail(__FILE__, __LINE__, "setup", "%s", e.msg);
	q = (struct fuzz_queue){ r.qsize, DESC_GPA, AVAIL_GPA, USED_GPA };
	fuzz_virtio_setup(&r.vm, blk_dev(&r), features, 1, &q);
	while (!fin_done(&in))
		run_op(&r, &in);
	fuzz_vm_destroy(&r.vm);
	fuzz_mem_free(&r.mem);
	return 0;
}
