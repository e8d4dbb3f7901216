// SPDX-License-Identifier: MIT
/*
 * Boot timer (--boot-timer): a guest writes the byte 123 to the start of an
 * MMIO window when it considers itself booted, and gmvm logs how long that
 * took since the monitor started. Writes of other values are ignored; a
 * guest writing the value again and again gets one line a second.
 */
#include <errno.h>
#include <stdlib.h>

#include "arch_layout.h"
#include "log.h"
#include "util.h"
#include "vm.h"

#define BOOT_TIMER_MAGIC 123

struct boot_timer {
	struct device dev;	/* first: the device is the boot timer */
	struct log_limit limit;
};

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
	struct boot_timer *t = (struct boot_timer *)dev;
	unsigned int held;
	uint64_t ns;

	(void)len;
	if (offset != 0 || data[0] != BOOT_TIMER_MAGIC)
		return;
	ns = time_now_ns() - dev->vm->start_ns;
	if (!log_limit_pass(&t->limit, &held))
		return;
	if (held)
		log_notice("boot-timer: guest booted %llu.%03llu ms after gmvm started (and %u more times in the last second)",
			   (unsigned long long)(ns / 1000000),
			   (unsigned long long)(ns / 1000 % 1000), held);
	else
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
	struct boot_timer *t;

	if (!cfg->boot_timer)
		return 0;
	t = calloc(1, sizeof(*t));
	if (!t || vm_add_device(vm, &t->dev)) {
		free(t);
		return err_set(e, ENOMEM, "out of memory for the boot timer");
	}
	device_init(&t->dev, &boot_timer_ops, vm);
	return vm_register_mmio(vm, LAYOUT_BOOT_TIMER_ADDR,
				LAYOUT_BOOT_TIMER_SIZE, &t->dev, e);
}

const struct device_desc boot_timer_device = {
	.name = "boot-timer",
	.setup = boot_timer_setup,
};
