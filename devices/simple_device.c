// SPDX-License-Identifier: MIT
/*
 * Devices of one window that only listen: reads are zeros, a write calls the
 * kind's handler (the debug-exit and snapshot ports, the boot timer).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "device.h"
#include "guest_mem.h"
#include "host.h"

static void simple_device_read(struct device *dev, uint64_t offset,
			       uint8_t *data, uint32_t len)
{
	(void)dev;
	(void)offset;
	memset(data, 0, len);
}

static void simple_device_destroy(struct device *dev)
{
	free(dev);
}

struct device *simple_device_add(struct dev_host *host,
				 const struct simple_device_desc *desc,
				 size_t size, struct err *e)
{
	struct simple_device *sd;
	int ret;

	sd = calloc(1, size < sizeof(*sd) ? sizeof(*sd) : size);
	if (!sd || host_add_device(host, &sd->dev)) {
		free(sd);
		err_set(e, ENOMEM, "out of memory for the %s device", desc->name);
		return NULL;
	}
	/* The ops live in the device: one kind of ops, many names. */
	sd->ops = (struct device_ops){
		.name = desc->name,
		.read = simple_device_read,
		.write = desc->write,
		.destroy = simple_device_destroy,
	};
	device_init(&sd->dev, &sd->ops, host);
	ret = desc->mmio ? host_add_mmio(host, desc->base, desc->len, &sd->dev, e) :
			   host_add_pio(host, desc->base, desc->len, &sd->dev, e);
	return ret ? NULL : &sd->dev;
}
