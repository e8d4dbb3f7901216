// SPDX-License-Identifier: MIT
/*
 * Snapshot request port 0x4f0 (--snapshot-on-request): any write makes gmvm
 * take a snapshot at that instant. The writing vCPU parks right after its
 * write, so a restore resumes at the next instruction.
 */
#include "arch_layout.h"
#include "console.h"
#include "device.h"
#include "guest_mem.h"
#include "host.h"

static void snapshot_port_write(struct device *dev, uint64_t offset,
				const uint8_t *data, uint32_t len)
{
	(void)offset;
	(void)data;
	(void)len;
	host_request_snapshot(dev->host);
}

static int snapshot_port_setup(struct dev_host *host, const struct dev_config *cfg,
			       struct err *e)
{
	static const struct simple_device_desc desc = {
		.name = "snapshot-port",
		.base = LAYOUT_SNAPSHOT_PORT,
		.len = 1,
		.write = snapshot_port_write,
	};

	if (!cfg->snapshot_port)
		return 0;
	return simple_device_add(host, &desc, 0, e) ? 0 : -e->errnum;
}

const struct device_desc snapshot_port_device = {
	.name = "snapshot-port",
	.setup = snapshot_port_setup,
};
