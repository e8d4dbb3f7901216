// SPDX-License-Identifier: MIT
/*
 * Seeds for the virtio targets (see mkseeds.c): queues, block requests,
 * drivers of every device, frames, and a vmstate from the real writer.
 */
#include <linux/virtio_blk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "mkseeds.h"
#include "snapshot.h"
#include "vmstate.h"

/* --- virtqueue ------------------------------------------------------------- */

static void vq_header(struct buf *b, uint16_t size, uint8_t flags,
		      uint16_t idx)
{
	put16(b, size);
	put8(b, flags);
	put64(b, 0x1000);
	put64(b, 0x2000);
	put64(b, 0x3000);
	put16(b, idx);
	put16(b, idx);
}

static void vq_desc(struct buf *b, uint16_t i, uint64_t addr, uint32_t len,
		    uint16_t flags, uint16_t next)
{
	put8(b, 1);
	put16(b, i);
	put64(b, addr);
	put32(b, len);
	put16(b, flags);
	put16(b, next);
}

/* Pop the head made available, use it, give it back. */
static void vq_serve(struct buf *b, uint16_t head)
{
	put8(b, 2);
	put16(b, head);
	put8(b, 3);
	put8(b, 5);
	put32(b, 0);
	put16(b, 64);
	put8(b, 6);
	put32(b, 0);
	put16(b, 600);
	put8(b, 7);
	put8(b, 1);
	put32(b, 0);
	put32(b, 512);
	put16(b, 16);
	put8(b, 4);
	put32(b, 513);
	put8(b, 8);
}

void seeds_virtqueue(void)
{
	struct buf b = { 0 };
	struct vring_desc table[3] = {
		{ 0x4000, 16, VRING_DESC_F_NEXT, 1 },
		{ 0x5000, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2 },
		{ 0x6000, 1, VRING_DESC_F_WRITE, 0 },
	};

	vq_header(&b, 8, 0, 0);
	for (uint16_t i = 0; i < 3; i++)
		vq_desc(&b, i, table[i].addr, table[i].len, table[i].flags, table[i].next);
	vq_serve(&b, 0);
	save("virtqueue", "chain", &b);

	/* The same chain in an indirect table at 0x7000. */
	vq_header(&b, 16, 3, 0);
	put8(&b, 0);
	put16(&b, 0x7000);
	put8(&b, sizeof(table));
	put(&b, table, sizeof(table));
	vq_desc(&b, 5, 0x7000, sizeof(table), VRING_DESC_F_INDIRECT, 0);
	vq_serve(&b, 5);
	save("virtqueue", "indirect-event-idx", &b);

	/* Event idx across the index wrap. */
	vq_header(&b, 4, 1, 0xfffe);
	for (uint16_t i = 0; i < 3; i++)
		vq_desc(&b, i, table[i].addr, table[i].len, table[i].flags, table[i].next);
	for (int k = 0; k < 4; k++) {
		put8(&b, 9);
		put16(&b, 0xfffe + k);
		vq_serve(&b, 0);
	}
	save("virtqueue", "wrap", &b);

	/* A chain that loops: refused. */
	vq_header(&b, 8, 0, 0);
	vq_desc(&b, 0, 0x4000, 16, VRING_DESC_F_NEXT, 1);
	vq_desc(&b, 1, 0x4000, 16, VRING_DESC_F_NEXT, 0);
	put8(&b, 2);
	put16(&b, 0);
	put8(&b, 3);
	save("virtqueue", "loop", &b);
	free(b.d);
}

/* --- virtio-blk ------------------------------------------------------------- */

static void blk_req(struct buf *b, uint8_t type, uint64_t sector, uint16_t len,
		    uint8_t segs, uint8_t head)
{
	put8(b, 3);
	put8(b, type);
	put64(b, sector);
	put16(b, len);
	put8(b, segs);
	put8(b, head);
}

static void blk_ranges(struct buf *b, uint8_t zeroes, uint8_t n)
{
	put8(b, 6);
	put8(b, zeroes);
	put8(b, n);
	for (uint8_t i = 0; i < n; i++) {
		put64(b, 8 * i);
		put32(b, 8);
		put32(b, zeroes ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0);
	}
}

void seeds_virtio_blk(void)
{
	struct buf b = { 0 };

	for (int ro = 0; ro < 2; ro++) {
		put8(&b, 7);
		put64(&b, ~0ull);
		put8(&b, ro);
		blk_req(&b, 1, 0, 2048, 2, 0);		/* OUT */
		blk_req(&b, 0, 0, 2048, 3, 8);		/* IN */
		blk_req(&b, 2, 0, 0, 1, 16);		/* FLUSH */
		blk_req(&b, 3, 0, 20, 1, 24);		/* GET_ID */
		blk_req(&b, 0, 120, 8192, 4, 32);	/* IN past the end */
		blk_ranges(&b, 0, 2);
		blk_ranges(&b, 1, 1);
		put8(&b, 4);				/* config: capacity */
		put8(&b, 0);
		put8(&b, 3);
		put8(&b, 7);				/* snapshot round trip */
		blk_req(&b, 0, 0, 512, 1, 40);
		save("virtio_blk", ro ? "requests-ro" : "requests", &b);
	}
	free(b.d);
}

/* --- virtio-mmio ------------------------------------------------------------- */

static void mmio_setup(struct buf *b, uint8_t d)
{
	put8(b, 4);
	put8(b, d);
	put64(b, ~0ull);
	put8(b, 3);		/* 8 entries */
}

static void mmio_desc(struct buf *b, uint8_t d, uint8_t q, uint8_t i,
		      uint32_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	put8(b, 5);
	put8(b, d);
	put8(b, q);
	put8(b, i);
	put32(b, addr);
	put32(b, len);
	put16(b, flags);
	put16(b, next);
}

static void mmio_avail(struct buf *b, uint8_t d, uint8_t q, uint16_t head)
{
	put8(b, 6);
	put8(b, d);
	put8(b, q);
	put16(b, head);
}

/* Devices: 0 virtio-blk, 1 virtio-rng, 2 virtio-console, 3 virtio-balloon. */
void seeds_virtio_mmio(void)
{
	struct buf b = { 0 };
	uint32_t pfns[4] = { 0x30, 0x31, 0x32, 0x1000 };

	/* Registers read as a driver probes them. */
	for (uint8_t d = 0; d < 4; d++)
		for (uint16_t off = 0; off < 0x14; off += 4) {
			put8(&b, 2);
			put8(&b, d);
			put16(&b, off);
		}
	for (uint8_t d = 0; d < 4; d++)
		mmio_setup(&b, d);
	/* rng: a 64-byte buffer. */
	mmio_desc(&b, 1, 0, 0, 0x28000, 64, VRING_DESC_F_WRITE, 0);
	mmio_avail(&b, 1, 0, 0);
	/* console: output, then input into a receive buffer. */
	put8(&b, 3);
	put16(&b, 0x29000 / 4);
	put8(&b, 6);
	put(&b, "hello\n", 6);
	mmio_desc(&b, 2, 1, 0, 0x29000, 6, 0, 0);
	mmio_avail(&b, 2, 1, 0);
	mmio_desc(&b, 2, 0, 0, 0x2a000, 16, VRING_DESC_F_WRITE, 0);
	mmio_avail(&b, 2, 0, 0);
	put8(&b, 7);
	put8(&b, 3);
	put(&b, "ls\n", 3);
	/* balloon: inflate four frames, one outside RAM; a target. */
	put8(&b, 3);
	put16(&b, 0x2b000 / 4);
	put8(&b, sizeof(pfns));
	put(&b, pfns, sizeof(pfns));
	mmio_desc(&b, 3, 0, 0, 0x2b000, sizeof(pfns), 0, 0);
	mmio_avail(&b, 3, 0, 0);
	put8(&b, 8);
	put32(&b, 16);
	/* Config space reads of every size, a pause, a snapshot. */
	for (uint8_t size = 0; size < 4; size++) {
		put8(&b, 0);
		put8(&b, 3);
		put16(&b, 0x100);
		put8(&b, size);
		put8(&b, 0);
		put64(&b, 0);
	}
	put8(&b, 9);
	put8(&b, 10);
	mmio_avail(&b, 1, 0, 0);
	save("virtio_mmio", "drivers", &b);
	free(b.d);
}

/* --- virtio-net --------------------------------------------------------------- */

static void net_frame(struct buf *b, uint8_t op, uint16_t len, uint8_t hdr_flags)
{
	uint8_t frame[12 + 60] = { hdr_flags };

	memset(frame + 12, 0xff, 6);		/* broadcast */
	frame[12 + 12] = 0x08;			/* IPv4 */
	put8(b, op);
	if (op == 4) {				/* TX: head, length, split */
		put8(b, 0);
		put16(b, len);
		put8(b, 12);
	} else {
		put16(b, len);
	}
	put(b, frame, len);
}

static void net_rxbuf(struct buf *b, uint8_t head, uint8_t n, uint16_t len)
{
	put8(b, 3);
	put8(b, head);
	put8(b, n - 1);
	put16(b, len - 1);
}

void seeds_virtio_net(void)
{
	struct buf b = { 0 };

	put8(&b, 4);			/* 16 entries */
	put64(&b, ~0ull);
	put8(&b, 1);			/* MAC given */
	for (uint8_t off = 0; off < 8; off += 2) {
		put8(&b, 8);		/* config: mac and status */
		put8(&b, off);
		put8(&b, 1);
	}
	net_rxbuf(&b, 0, 1, 1600);
	net_frame(&b, 5, 72, 0);	/* a frame from the network */
	net_frame(&b, 4, 72, 0);	/* one to it */
	put8(&b, 6);
	net_rxbuf(&b, 4, 3, 600);
	net_frame(&b, 5, 72, 1);	/* NEEDS_CSUM: dropped */
	net_frame(&b, 5, 40, 0);	/* a runt */
	put8(&b, 10);
	put8(&b, 11);
	net_frame(&b, 5, 72, 0);
	put8(&b, 9);			/* the tap goes away */
	net_frame(&b, 4, 72, 0);
	save("virtio_net", "frames", &b);
	free(b.d);
}

/* --- vmstate --------------------------------------------------------------- */

/* One vCPU node with every property of the right size (vcpu_state_check). */
static void write_cpu(struct vmstate_writer *w)
{
	static uint8_t zero[8192];
	static const struct {
		const char *name;
		size_t size;
	} blobs[] = {
		{ "mp_state", sizeof(struct kvm_mp_state) },
		{ "regs", sizeof(struct kvm_regs) },
		{ "sregs", sizeof(struct kvm_sregs) },
		{ "xcrs", sizeof(struct kvm_xcrs) },
		{ "debugregs", sizeof(struct kvm_debugregs) },
		{ "lapic", sizeof(struct kvm_lapic_state) },
		{ "xsave", 4096 },
		{ "events", sizeof(struct kvm_vcpu_events) },
		{ "msrs", 4 * sizeof(struct kvm_msr_entry) },
		{ "cpuid", 2 * sizeof(struct kvm_cpuid_entry2) },
	};

	vmstate_begin(w, "cpus");
	vmstate_begin(w, "cpu@0");
	for (unsigned int i = 0; i < ARRAY_SIZE(blobs); i++)
		vmstate_put_blob(w, blobs[i].name, zero, blobs[i].size);
	vmstate_end(w);
	vmstate_end(w);
}

/* Configuration and regions as snapshot.c writes them, for cfg and mem. */
void seeds_vmstate(void)
{
	struct vm_config cfg = {
		.boot.cmdline = "", .machine.nr_vcpus = 1, .dev.console = CONSOLE_VIRTIO,
		.dev.virtio_console = true,
	};
	struct fuzz_queue q[3];
	struct vmstate_writer w;
	struct guest_mem mem;
	struct vm vm;
	struct err e = { 0 };
	struct buf b = { 0 };
	const void *blob;
	size_t len;
	uint8_t lcr = 0x03;

	fuzz_dev_option(&cfg.dev, "rng", NULL);
	fuzz_dev_option(&cfg.dev, "balloon", NULL);
	fuzz_add_disk(&cfg.dev, 0, false);
	if (fuzz_mem_init(&mem, 2 * MIB) || fuzz_vm_create(&vm, &cfg, &mem, &e)) {
		fprintf(stderr, "mkseeds: %s\n", e.msg);
		exit(1);
	}
	/* Every virtio device live, queues at distinct places; a UART set up. */
	for (unsigned int d = 0; d < vm.nr_virtio; d++) {
		for (unsigned int i = 0; i < 3; i++)
			q[i] = (struct fuzz_queue){ 16, 0x10000 * (d + 1) + 0x1000 * i * 4,
						    0x10000 * (d + 1) + 0x1000 * (i * 4 + 1),
						    0x10000 * (d + 1) + 0x1000 * (i * 4 + 2) };
		fuzz_virtio_setup(&vm, vm.virtio[d], ~0ull,
				  MIN(vm.virtio[d]->ops->nr_queues, 3u), q);
	}
	fuzz_vm_pio(&vm, 0x3fb, &lcr, 1, true);
	if (vmstate_writer_init(&w))
		exit(1);
	/*
	 * gmvm's own writer: a seed that stays what gmvm writes. The disk's
	 * path as a user would give it, not the memfd's (whose fd number
	 * varies): the same seed every time.
	 */
	((struct disks_config *)device_config(&cfg.dev, &virtio_blk_device))->disks[0].path =
		"/var/lib/gmvm/disk.img";
	vm.nr_vcpus = 1;
	snapshot_write_config(&vm, &w);
	snapshot_write_regions(&vm, (const uint32_t[GUEST_MEM_MAX_REGIONS]){ 0 }, &w);
	vmstate_begin(&w, "vm");
	vmstate_end(&w);
	vm.nr_vcpus = 0;
	write_cpu(&w);
	snapshot_write_devices(&vm, &w);
	/* As gmvm fuzz's snapshots have it: an input buffer and a coverage map. */
	fuzz_guest_save(&(struct fuzz_guest){ .input_gpa = 0x100000, .input_size = 0x1000,
					      .coverage_size = 65536 }, &w);
	if (vmstate_finish(&w, &blob, &len))
		exit(1);
	put8(&b, 0);
	put(&b, blob, len);
	save("vmstate", "devices", &b);
	put8(&b, 1);
	put(&b, blob, len);
	save("vmstate", "devices-fix-checksum", &b);
	vmstate_writer_free(&w);
	fuzz_vm_destroy(&vm);
	fuzz_mem_free(&mem);
	free(b.d);
}
