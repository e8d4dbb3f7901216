// SPDX-License-Identifier: MIT
/*
 * Debug exit at port 0xf4, where QEMU's isa-debug-exit is usually placed: a
 * guest write of v ends gmvm with exit status v & 0xff. (QEMU exits with
 * (v << 1) | 1 instead, so the same guest also ends itself under QEMU.)
 */
#include "arch_layout.h"
#include "console.h"
#include "device.h"
#include "guest_mem.h"
#include "host.h"
#include "log.h"

static void debug_exit_write(struct device *dev, uint64_t offset,
			     const uint8_t *data, uint32_t len)
{
	(void)offset;
	(void)len;
	log_info("guest asked to exit with status %u", data[0]);
	host_request_exit(dev->host, data[0]);
}

static int debug_exit_setup(struct dev_host *host, const struct dev_config *cfg,
			    struct err *e)
{
	static const struct simple_device_desc desc = {
		.name = "debug-exit",
		.base = LAYOUT_DEBUG_EXIT_PORT,
		.len = LAYOUT_DEBUG_EXIT_SIZE,
		.write = debug_exit_write,
	};

	(void)cfg;
	return simple_device_add(host, &desc, 0, e) ? 0 : -e->errnum;
}

const struct device_desc debug_exit_device = {
	.name = "debug-exit",
	.setup = debug_exit_setup,
};
