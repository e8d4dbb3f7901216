// SPDX-License-Identifier: MIT
/* Every kind of device gmvm can create, in set-up order. */
#include "device.h"
#include "util.h"

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
