// SPDX-License-Identifier: MIT
/*
 * Debug exit at port 0xf4, where QEMU's isa-debug-exit is usually placed: a
 * guest write of v ends gmvm with exit status v & 0xff. (QEMU exits with
 * (v << 1) | 1 instead, so the same guest also ends itself under QEMU.)
 */
#include <errno.h>
#include <stdlib.h>

#include "arch_layout.h"
#include "log.h"
#include "vm.h"

static void debug_exit_read(struct device *dev, uint64_t offset,
			    uint8_t *data, uint32_t len)
{
	(void)dev;
	(void)offset;
	for (uint32_t i = 0; i < len; i++)
		data[i] = 0;
}

static void debug_exit_write(struct device *dev, uint64_t offset,
			     const uint8_t *data, uint32_t len)
{
	(void)offset;
	(void)len;
	log_info("guest asked to exit with status %u", data[0]);
	vm_request_exit(dev->vm, data[0]);
}

static void debug_exit_destroy(struct device *dev)
{
	free(dev);
}

static const struct device_ops debug_exit_ops = {
	.name = "debug-exit",
	.read = debug_exit_read,
	.write = debug_exit_write,
	.destroy = debug_exit_destroy,
};

static int debug_exit_setup(struct vm *vm, const struct vm_config *cfg,
			    struct err *e)
{
	struct device *dev = calloc(1, sizeof(*dev));

	(void)cfg;
	if (!dev || vm_add_device(vm, dev)) {
		free(dev);
		return err_set(e, ENOMEM, "out of memory for the debug-exit port");
	}
	device_init(dev, &debug_exit_ops, vm);
	return vm_register_pio(vm, LAYOUT_DEBUG_EXIT_PORT,
			       LAYOUT_DEBUG_EXIT_SIZE, dev, e);
}

const struct device_desc debug_exit_device = {
	.name = "debug-exit",
	.setup = debug_exit_setup,
};
