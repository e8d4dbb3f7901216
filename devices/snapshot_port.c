// SPDX-License-Identifier: MIT
/*
 * Snapshot request port 0x4f0 (--snapshot-on-request): any write makes gmvm
 * take a snapshot at that instant. The writing vCPU parks right after its
 * write, so a restore resumes at the next instruction.
 */
#include <errno.h>
#include <stdlib.h>

#include "arch_layout.h"
#include "vm.h"

static void snapshot_port_read(struct device *dev, uint64_t offset,
			       uint8_t *data, uint32_t len)
{
	(void)dev;
	(void)offset;
	for (uint32_t i = 0; i < len; i++)
		data[i] = 0;
}

static void snapshot_port_write(struct device *dev, uint64_t offset,
				const uint8_t *data, uint32_t len)
{
	(void)offset;
	(void)data;
	(void)len;
	vm_request_snapshot(dev->vm);
}

static void snapshot_port_destroy(struct device *dev)
{
	free(dev);
}

static const struct device_ops snapshot_port_ops = {
	.name = "snapshot-port",
	.read = snapshot_port_read,
	.write = snapshot_port_write,
	.destroy = snapshot_port_destroy,
};

static int snapshot_port_setup(struct vm *vm, const struct vm_config *cfg,
			       struct err *e)
{
	struct device *dev;

	if (!cfg->snapshot_dir)
		return 0;
	dev = calloc(1, sizeof(*dev));
	if (!dev || vm_add_device(vm, dev)) {
		free(dev);
		return err_set(e, ENOMEM, "out of memory for the snapshot port");
	}
	device_init(dev, &snapshot_port_ops, vm);
	return vm_register_pio(vm, LAYOUT_SNAPSHOT_PORT, 1, dev, e);
}

const struct device_desc snapshot_port_device = {
	.name = "snapshot-port",
	.setup = snapshot_port_setup,
};
