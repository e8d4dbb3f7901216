// SPDX-License-Identifier: MIT
/*
 * The PC keyboard controller, as far as a kernel uses it without a keyboard:
 * status and command bytes for the driver's probe, and the reset line
 * (command 0xfe, or the output port's reset bit) that ends gmvm with status
 * 0 -- Linux's reboot=k path.
 */
#include <errno.h>
#include <stdlib.h>

#include "console.h"
#include "device.h"
#include "guest_mem.h"
#include "host.h"
#include "log.h"
#include "vmstate.h"

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT 0x64

#define STATUS_OBF 0x01		/* a byte waits in the output buffer */
#define STATUS_SYS 0x04		/* self test passed */
#define STATUS_CMD 0x08		/* last write was a command */

#define CMD_READ_CTR 0x20
#define CMD_WRITE_CTR 0x60
#define CMD_TEST_AUX 0xa9
#define CMD_SELF_TEST 0xaa
#define CMD_TEST_KBD 0xab
#define CMD_WRITE_OUTPUT 0xd1
#define CMD_PULSE_RESET 0xfe
#define OUTPUT_RESET_RELEASED 0x01

struct i8042 {
	struct device dev;
	uint8_t ctr;		/* controller configuration byte */
	uint8_t status;
	uint8_t out;		/* output buffer */
	uint8_t pending_cmd;	/* command waiting for its data byte */
};

static void i8042_output(struct i8042 *k, uint8_t v)
{
	k->out = v;
	k->status |= STATUS_OBF;
}

static void i8042_reset_guest(struct i8042 *k)
{
	log_info("guest reset through the i8042 controller");
	host_request_exit(k->dev.host, 0);
}

static void i8042_command(struct i8042 *k, uint8_t cmd)
{
	k->status |= STATUS_CMD;
	switch (cmd) {
	case CMD_READ_CTR:
		i8042_output(k, k->ctr);
		break;
	case CMD_WRITE_CTR:
	case CMD_WRITE_OUTPUT:
		k->pending_cmd = cmd;
		break;
	case CMD_SELF_TEST:
		k->status |= STATUS_SYS;
		i8042_output(k, 0x55);
		break;
	case CMD_TEST_KBD:
	case CMD_TEST_AUX:
		i8042_output(k, 0x00);
		break;
	case CMD_PULSE_RESET:
		i8042_reset_guest(k);
		break;
	default:
		/* Port enable/disable and the rest: nothing to do. */
		break;
	}
}

static void i8042_data(struct i8042 *k, uint8_t v)
{
	k->status &= ~STATUS_CMD;
	switch (k->pending_cmd) {
	case CMD_WRITE_CTR:
		k->ctr = v;
		break;
	case CMD_WRITE_OUTPUT:
		if (!(v & OUTPUT_RESET_RELEASED))
			i8042_reset_guest(k);
		break;
	default:
		/* A byte for a keyboard that is not there. */
		break;
	}
	k->pending_cmd = 0;
}

static void i8042_read(struct device *dev, uint64_t offset, uint8_t *data,
		       uint32_t len)
{
	struct i8042 *k = (struct i8042 *)dev;

	for (uint32_t i = 0; i < len; i++)
		data[i] = 0;
	if (offset == I8042_CMD_PORT - I8042_DATA_PORT) {
		data[0] = k->status;
	} else if (offset == 0) {
		data[0] = k->out;
		k->status &= ~STATUS_OBF;
	}
}

static void i8042_write(struct device *dev, uint64_t offset,
			const uint8_t *data, uint32_t len)
{
	struct i8042 *k = (struct i8042 *)dev;

	(void)len;
	if (offset == I8042_CMD_PORT - I8042_DATA_PORT)
		i8042_command(k, data[0]);
	else if (offset == 0)
		i8042_data(k, data[0]);
}

static void i8042_reset(struct device *dev)
{
	struct i8042 *k = (struct i8042 *)dev;

	k->ctr = 0;
	k->status = STATUS_SYS;
	k->out = 0;
	k->pending_cmd = 0;
}

static void i8042_save(struct device *dev, struct vmstate_writer *w)
{
	struct i8042 *k = (struct i8042 *)dev;

	vmstate_put_u32(w, "ctr", k->ctr);
	vmstate_put_u32(w, "status", k->status);
	vmstate_put_u32(w, "out", k->out);
	vmstate_put_u32(w, "pending-cmd", k->pending_cmd);
}

static int i8042_restore(struct device *dev, const struct vmstate *vs,
			 int node, struct err *e)
{
	struct i8042 *k = (struct i8042 *)dev;
	uint32_t ctr, status, out, cmd;

	if (vmstate_get_u32(vs, node, "ctr", &ctr, e) ||
	    vmstate_get_u32(vs, node, "status", &status, e) ||
	    vmstate_get_u32(vs, node, "out", &out, e) ||
	    vmstate_get_u32(vs, node, "pending-cmd", &cmd, e))
		return -EINVAL;
	if (ctr > 0xff || status > 0xff || out > 0xff ||
	    (cmd && cmd != CMD_WRITE_CTR && cmd != CMD_WRITE_OUTPUT))
		return err_set(e, EINVAL, "i8042: register value out of range");
	k->ctr = ctr;
	k->status = status;
	k->out = out;
	k->pending_cmd = cmd;
	return 0;
}

static void i8042_destroy(struct device *dev)
{
	free(dev);
}

static const struct device_ops i8042_ops = {
	.name = "i8042",
	.read = i8042_read,
	.write = i8042_write,
	.reset = i8042_reset,
	.save = i8042_save,
	.restore = i8042_restore,
	.destroy = i8042_destroy,
};

static int i8042_setup(struct dev_host *host, const struct dev_config *cfg,
		       struct err *e)
{
	struct i8042 *k = calloc(1, sizeof(*k));

	(void)cfg;
	if (!k || host_add_device(host, &k->dev)) {
		free(k);
		return err_set(e, ENOMEM, "out of memory for the i8042");
	}
	device_init(&k->dev, &i8042_ops, host);
	i8042_reset(&k->dev);
	/* One range over 0x60-0x64; 0x61 belongs to KVM's PIT, never seen. */
	return host_add_pio(host, I8042_DATA_PORT,
			       I8042_CMD_PORT - I8042_DATA_PORT + 1, &k->dev, e);
}

const struct device_desc i8042_device = {
	.name = "i8042",
	.setup = i8042_setup,
};
