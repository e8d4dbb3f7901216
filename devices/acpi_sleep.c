// SPDX-License-Identifier: MIT
/*
 * The hardware-reduced ACPI sleep control and status registers (ACPI 6.3,
 * 4.8.3.7) at ports 0x600 and 0x601, where the FADT points: how a guest
 * powers off. Linux writes \_S5's SLP_TYP (5, from the DSDT) shifted left by
 * 2, with SLP_EN (bit 5), to the control register; gmvm then ends with
 * status 0, as for any guest power-off. Other sleep states are not
 * supported: the request is ignored and the guest goes on.
 *
 * The device exists where the tables do (--discovery acpi|both). Both
 * registers read as 0: the guest never sleeps, so WAK_STS is never
 * set, and a write to the status register (write 1 to clear WAK_STS) has
 * nothing to clear.
 */
#include <errno.h>
#include <stdlib.h>

#include "acpi.h"
#include "arch_layout.h"
#include "console.h"
#include "device.h"
#include "guest_mem.h"
#include "host.h"
#include "log.h"

#define SLEEP_CONTROL 0		/* register offsets from the control port */
#define SLEEP_STATUS 1
#define SLEEP_REGS 2

_Static_assert(LAYOUT_ACPI_SLEEP_STATUS_PORT ==
	       LAYOUT_ACPI_SLEEP_CONTROL_PORT + SLEEP_STATUS,
	       "the sleep status register follows the control register");

struct acpi_sleep {
	struct device dev;
	/* A bit per (3-bit) SLP_TYP already warned about: once each. */
	uint8_t warned;
};

static void acpi_sleep_read(struct device *dev, uint64_t offset,
			    uint8_t *data, uint32_t len)
{
	(void)dev;
	(void)offset;
	for (uint32_t i = 0; i < len; i++)
		data[i] = 0;
}

static void acpi_sleep_control(struct acpi_sleep *s, uint8_t v)
{
	unsigned int typ = (v & ACPI_SLP_TYP_MASK) >> ACPI_SLP_TYP_SHIFT;

	if (!(v & ACPI_SLP_EN))
		return;
	if (typ == ACPI_SLP_TYP_S5) {
		log_info("the guest powered off (ACPI S5)");
		host_request_exit(s->dev.host, 0);
		return;
	}
	if (s->warned & (1u << typ))
		return;
	s->warned |= (uint8_t)(1u << typ);
	log_warn("acpi-sleep: the guest asked for sleep state S%u, which is not supported; ignored",
		 typ);
}

/*
 * Each byte of an access lands on the register at its port, as on an ISA
 * bus: a word write at 0x600 writes both registers. Bytes past them (the
 * bus never routes such an access here) are dropped all the same.
 */
static void acpi_sleep_write(struct device *dev, uint64_t offset,
			     const uint8_t *data, uint32_t len)
{
	struct acpi_sleep *s = (struct acpi_sleep *)dev;

	for (uint32_t i = 0; i < len; i++)
		if (offset + i == SLEEP_CONTROL)
			acpi_sleep_control(s, data[i]);
}

static void acpi_sleep_destroy(struct device *dev)
{
	free(dev);
}

static const struct device_ops acpi_sleep_ops = {
	.name = "acpi-sleep",
	.read = acpi_sleep_read,
	.write = acpi_sleep_write,
	.destroy = acpi_sleep_destroy,
};

static int acpi_sleep_setup(struct dev_host *host, const struct dev_config *cfg,
			    struct err *e)
{
	struct acpi_sleep *s;

	if (cfg->discovery == DISCOVERY_CMDLINE)
		return 0;	/* no tables to point at it */
	s = calloc(1, sizeof(*s));
	if (!s || host_add_device(host, &s->dev)) {
		free(s);
		return err_set(e, ENOMEM, "out of memory for the ACPI sleep registers");
	}
	device_init(&s->dev, &acpi_sleep_ops, host);
	return host_add_pio(host, LAYOUT_ACPI_SLEEP_CONTROL_PORT, SLEEP_REGS,
			       &s->dev, e);
}

const struct device_desc acpi_sleep_device = {
	.name = "acpi-sleep",
	.setup = acpi_sleep_setup,
};
