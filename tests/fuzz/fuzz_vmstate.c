// SPDX-License-Identifier: MIT
/*
 * Snapshot vmstate files: the checks snapshot_open() makes of them
 * (snapshot_parse(): lib/vmstate.c, vmm/snapshot_load.c, the vCPU state
 * shapes), then, for a vmstate that passes, a VM of its configuration with
 * its devices' state restored (snapshot_restore_devices(): every device's
 * restore), the notifications a restore queues served, and a save/restore
 * round trip of what came out of it.
 *
 * Input: u8 flags, then the vmstate blob. Flag bit 0: put the right CRC32C
 * into the blob's checksum first, or mutated blobs would never get past
 * it. Disks are memfds whatever paths the blob names; network devices are
 * not made (no tap), so state for one is refused like any unknown device.
 */
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "snapshot.h"

#define RAM_SIZE (2 * MIB)

/* What the writer does last: the CRC32C with the checksum itself 0. */
static void fix_checksum(void *fdt, size_t len)
{
	/* As vmstate_open(): libfdt's full check only on version 17 trees. */
	if (len < sizeof(struct fdt_header) || fdt_check_header(fdt) ||
	    fdt_version(fdt) != 17 || fdt_last_comp_version(fdt) != 16 ||
	    fdt_check_full(fdt, len) ||
	    fdt_totalsize(fdt) != len ||
	    fdt_setprop_inplace_u32(fdt, 0, "checksum", 0))
		return;
	fdt_setprop_inplace_u32(fdt, 0, "checksum", crc32c(0, fdt, len));
}

/* The devices of s into a VM made as `gmvm restore` would make it. */
static void restore(const struct snapshot *s)
{
	struct vm_config cfg = {
		.boot.cmdline = "", .machine.nr_vcpus = s->nr_vcpus, .machine.mem_size = s->mem_size,
		.dev = s->dev,
	};
	struct disks_config *disks = device_config(&cfg.dev, &virtio_blk_device);
	struct nets_config *nets = device_config(&cfg.dev, &virtio_net_device);
	static struct vm vm;
	struct guest_mem mem;
	struct err e = { 0 };

	cfg.dev.console = s->dev.virtio_console ? CONSOLE_VIRTIO : CONSOLE_SERIAL;
	nets->nr = 0;
	for (unsigned int i = 0; i < disks->nr; i++)
		disks->disks[i].path = fuzz_disk_path(i);
	fuzz_disks_reset();
	if (fuzz_mem_init(&mem, RAM_SIZE) || fuzz_vm_create(&vm, &cfg, &mem, &e))
		fuzz_fail(__FILE__, __LINE__, "setup", "%s", e.msg);
	if (!snapshot_restore_devices(&vm, &s->vs, &e)) {
		fuzz_vm_poll(&vm);
		fuzz_vm_roundtrip(&vm, &cfg, NULL);
	} else {
		fuzz_refused(&e, "snapshot_restore_devices");
	}
	fuzz_vm_destroy(&vm);
	fuzz_mem_free(&mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snapshot s = { .mem_fd = -1 };
	struct err e = { 0 };

	if (!size)
		return 0;
	/* Its own copy, as snapshot_open() reads the file into one. */
	s.vmstate_len = size - 1;
	s.vmstate_buf = malloc(s.vmstate_len + 1);
	if (!s.vmstate_buf)
		abort();
	memcpy(s.vmstate_buf, data + 1, s.vmstate_len);
	if (data[0] & 1)
		fix_checksum(s.vmstate_buf, s.vmstate_len);
	if (!snapshot_parse(&s, &e))
		restore(&s);
	else
		fuzz_refused(&e, "snapshot_parse");
	snapshot_close(&s);
	return 0;
}
