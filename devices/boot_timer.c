// SPDX-License-Identifier: MIT
/*
 * Boot timer (--boot-timer): a guest writes the byte 123 to the start of an
 * MMIO window when it considers itself booted, and gmvm logs how long that
 * took since the monitor started. Writes of other values are ignored; a
 * guest writing the value again and again gets one line a second.
 */
#include "arch_layout.h"
#include "console.h"
#include "device.h"
#include "guest_mem.h"
#include "host.h"
#include "log.h"
#include "util.h"
#include "vmstate.h"

#define BOOT_TIMER_MAGIC 123

struct boot_timer {
	struct simple_device sd;	/* first: the device is the boot timer */
	struct log_limit limit;
};

static void boot_timer_write(struct device *dev, uint64_t offset,
			     const uint8_t *data, uint32_t len)
{
	struct boot_timer *t = (struct boot_timer *)dev;
	unsigned int held;
	uint64_t ns;

	(void)len;
	if (offset != 0 || data[0] != BOOT_TIMER_MAGIC)
		return;
	ns = time_now_ns() - dev->host->start_ns;
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

extern const struct device_desc boot_timer_device;

static int boot_timer_setup(struct dev_host *host, const struct dev_config *cfg,
			    struct err *e)
{
	static const struct simple_device_desc desc = {
		.name = "boot-timer",
		.mmio = true,
		.base = LAYOUT_BOOT_TIMER_ADDR,
		.len = LAYOUT_BOOT_TIMER_SIZE,
		.write = boot_timer_write,
	};

	if (!device_flag_on(cfg, &boot_timer_device))
		return 0;
	return simple_device_add(host, &desc, sizeof(struct boot_timer), e) ? 0 : -e->errnum;
}

static const struct device_option boot_timer_options[] = {
	{
		.name = "boot-timer",
		.help = "report when the guest writes 123 to the boot-timer\nwindow at 0xc0000000",
		.man = ".B \\-\\-boot\\-timer\n"
		       "When the guest writes the byte 123 to the boot\\-timer window at 0xc0000000,\n"
		       "print the time since gmvm started.\n",
	},
	{ .name = NULL },
};

const struct device_desc boot_timer_device = {
	.name = "boot-timer",
	.config_size = sizeof(struct device_flag),
	.options = boot_timer_options,
	.parse = device_flag_parse,
	.setup = boot_timer_setup,
	.save_config = device_flag_save_config,
	.load_config = device_flag_load_config,
	.configured = device_flag_configured,
};
