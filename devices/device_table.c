// SPDX-License-Identifier: MIT
/* Every kind of device gmvm can create, in set-up order. */
#include <errno.h>

#include "device.h"
#include "util.h"
#include "vmstate.h"

extern const struct device_desc serial_device;
extern const struct device_desc i8042_device;
extern const struct device_desc debug_exit_device;
extern const struct device_desc boot_timer_device;
extern const struct device_desc snapshot_port_device;
extern const struct device_desc acpi_sleep_device;
extern const struct device_desc virtio_rng_device;
extern const struct device_desc virtio_blk_device;
extern const struct device_desc virtio_console_device;
extern const struct device_desc virtio_balloon_device;
extern const struct device_desc virtio_net_device;

const struct device_desc *const device_table[] = {
	&serial_device,
	&i8042_device,
	&debug_exit_device,
	&boot_timer_device,
	&snapshot_port_device,
	&acpi_sleep_device,
	&virtio_blk_device,
	&virtio_rng_device,
	&virtio_console_device,
	&virtio_balloon_device,
	&virtio_net_device,
};

const unsigned int device_table_len = ARRAY_SIZE(device_table);

void dev_config_save(const struct dev_config *cfg, struct vmstate_writer *w)
{
	for (unsigned int i = 0; i < device_table_len; i++)
		if (device_table[i]->save_config)
			device_table[i]->save_config(cfg, w);
}

int dev_config_load(struct dev_config *cfg, const struct vmstate *vs, int node,
		    struct err *e)
{
	for (unsigned int i = 0; i < device_table_len; i++)
		if (device_table[i]->load_config &&
		    device_table[i]->load_config(cfg, vs, node, e))
			return -EINVAL;
	return 0;
}
