// SPDX-License-Identifier: MIT
/*
 * Boot timer (--boot-timer): a guest writes the byte 123 to the start of an
 * MMIO window when it considers itself booted, and gmvm logs how long that
 * took since the monitor started. Writes of other values are ignored.
 */
#include <errno.h>
#include <stdlib.h>

#include "arch_layout.h"
#include "log.h"
#include "util.h"
#include "vm.h"

#define BOOT_TIMER_MAGIC 123

static void boot_timer_read(struct device *dev, uint64_t offset,
			    uint8_t *data, uint32_t len)
{
	(void)dev;
	(void)offset;
	for (uint32_t i = 0; i < len; i++)
		data[i] = 0;
}

static void boot_timer_write(struct device *dev, uint64_t offset,
			     const uint8_t *data, uint32_t len)
{
	uint64_t ns;

	(void)len;
	if (offset != 0 || data[0] != BOOT_TIMER_MAGIC)
		return;
	ns = time_now_ns() - dev->vm->start_ns;
	log_notice("boot-timer: guest booted %llu.%03llu ms after gmvm started",
		   (unsigned long long)(ns / 1000000),
		   (unsigned long long)(ns / 1000 % 1000));
}

static void boot_timer_destroy(struct device *dev)
{
	free(dev);
}

static const struct device_ops boot_timer_ops = {
	.name = "boot-timer",
	.read = boot_timer_read,
	.write = boot_timer_write,
	.destroy = boot_timer_destroy,
};

static int boot_timer_setup(struct vm *vm, const struct vm_config *cfg,
			    struct err *e)
{
	struct device *dev;

	if (!cfg->boot_timer)
		return 0;
	dev = calloc(1, sizeof(*dev));
	if (!dev || vm_add_device(vm, dev)) {
		free(dev);
		return err_set(e, ENOMEM, "out of memory for the boot timer");
	}
	device_init(dev, &boot_timer_ops, vm);
	return vm_register_mmio(vm, LAYOUT_BOOT_TIMER_ADDR,
				LAYOUT_BOOT_TIMER_SIZE, dev, e);
}

const struct device_desc boot_timer_device = {
	.name = "boot-timer",
	.setup = boot_timer_setup,
};
