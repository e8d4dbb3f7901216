// SPDX-License-Identifier: MIT
/*
 * 16550A UART on COM1 (ports 0x3f8-0x3ff, IRQ 4), joined to the console.
 *
 * Enough of the chip for Linux's 8250 driver to probe and use it: scratch
 * and IER read-back, loopback with modem-status mirroring, FIFO
 * identification in IIR, the divisor latch, and THR-empty and receive
 * interrupts. Transmission is instant, so THR is always empty again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "device.h"
#include "guest_mem.h"
#include "host.h"
#include "log.h"
#include "vmstate.h"

#define COM1_BASE 0x3f8
#define COM1_IRQ 4
#define UART_NR_PORTS 8
#define UART_RX_FIFO 64

enum {
	UART_RBR_THR_DLL = 0,
	UART_IER_DLM = 1,
	UART_IIR_FCR = 2,
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_MSR = 6,
	UART_SCR = 7,
};

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IER_MASK 0x0f
#define IIR_NO_INT 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO_ENABLED 0xc0
#define FCR_ENABLE_FIFO 0x01
#define FCR_CLEAR_RCVR 0x02
#define LCR_DLAB 0x80
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_MASK 0x1f
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

struct serial {
	struct device dev;
	uint8_t ier, lcr, mcr, scr, dll, dlm;
	bool fifo_enabled;
	bool thr_ipending;	/* THR-empty interrupt not yet acknowledged */
	bool irq_level;
	uint8_t rx[UART_RX_FIFO];
	unsigned int rx_head, rx_len;
};

static struct serial *to_serial(struct device *dev)
{
	return (struct serial *)dev;
}

static uint8_t serial_iir(const struct serial *s)
{
	uint8_t fifo = s->fifo_enabled ? IIR_FIFO_ENABLED : 0;

	if ((s->ier & IER_RDI) && s->rx_len)
		return IIR_RDI | fifo;
	if ((s->ier & IER_THRI) && s->thr_ipending)
		return IIR_THRI | fifo;
	return IIR_NO_INT | fifo;
}

static void serial_update_irq(struct serial *s)
{
	bool level = !(serial_iir(s) & IIR_NO_INT);

	if (level != s->irq_level) {
		s->irq_level = level;
		host_set_irq(s->dev.host, COM1_IRQ, level);
	}
}

static size_t serial_rx_push(struct serial *s, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	while (n < len && s->rx_len < UART_RX_FIFO) {
		s->rx[(s->rx_head + s->rx_len) % UART_RX_FIFO] = buf[n++];
		s->rx_len++;
	}
	return n;
}

static uint8_t serial_rx_pop(struct serial *s)
{
	uint8_t c;

	if (!s->rx_len)
		return 0;
	c = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % UART_RX_FIFO;
	if (--s->rx_len == 0)
		console_sink_ready(s->dev.host->console);
	return c;
}

static uint8_t serial_msr(const struct serial *s)
{
	uint8_t m = s->mcr;

	if (!(m & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	/* Loopback: modem outputs come back as modem status. */
	return (m & MCR_RTS ? MSR_CTS : 0) | (m & MCR_DTR ? MSR_DSR : 0) |
	       (m & MCR_OUT1 ? MSR_RI : 0) | (m & MCR_OUT2 ? MSR_DCD : 0);
}

static uint8_t serial_read_reg(struct serial *s, unsigned int reg)
{
	uint8_t iir;

	switch (reg) {
	case UART_RBR_THR_DLL:
		if (s->lcr & LCR_DLAB)
			return s->dll;
		return serial_rx_pop(s);
	case UART_IER_DLM:
		return s->lcr & LCR_DLAB ? s->dlm : s->ier;
	case UART_IIR_FCR:
		iir = serial_iir(s);
		/* Reading IIR acknowledges a THR-empty interrupt it reports. */
		if ((iir & 0x0f) == IIR_THRI)
			s->thr_ipending = false;
		return iir;
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		return LSR_THRE | LSR_TEMT | (s->rx_len ? LSR_DR : 0);
	case UART_MSR:
		return serial_msr(s);
	default:
		return s->scr;
	}
}

static void serial_transmit(struct serial *s, uint8_t c)
{
	if (s->mcr & MCR_LOOP)
		serial_rx_push(s, &c, 1);
	else
		console_write(s->dev.host->console, &c, 1);
	s->thr_ipending = true;
}

static void serial_write_reg(struct serial *s, unsigned int reg, uint8_t v)
{
	switch (reg) {
	case UART_RBR_THR_DLL:
		if (s->lcr & LCR_DLAB)
			s->dll = v;
		else
			serial_transmit(s, v);
		break;
	case UART_IER_DLM:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
			break;
		}
		/* Enabling THRI while THR is empty raises it at once. */
		if (!(s->ier & IER_THRI) && (v & IER_THRI))
			s->thr_ipending = true;
		s->ier = v & IER_MASK;
		break;
	case UART_IIR_FCR:
		s->fifo_enabled = v & FCR_ENABLE_FIFO;
		if (v & FCR_CLEAR_RCVR)
			s->rx_head = s->rx_len = 0;
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		s->mcr = v & MCR_MASK;
		break;
	case UART_SCR:
		s->scr = v;
		break;
	default:
		/* LSR and MSR are read-only. */
		break;
	}
}

static void serial_read(struct device *dev, uint64_t offset, uint8_t *data,
			uint32_t len)
{
	struct serial *s = to_serial(dev);

	memset(data, 0xff, len);
	data[0] = serial_read_reg(s, offset);
	serial_update_irq(s);
}

static void serial_write(struct device *dev, uint64_t offset,
			 const uint8_t *data, uint32_t len)
{
	struct serial *s = to_serial(dev);

	(void)len;
	serial_write_reg(s, offset, data[0]);
	serial_update_irq(s);
}

static void serial_reset(struct device *dev)
{
	struct serial *s = to_serial(dev);

	s->ier = s->lcr = s->scr = s->dlm = 0;
	s->mcr = MCR_OUT2;
	s->dll = 0x0c;		/* 9600 baud */
	s->fifo_enabled = false;
	s->thr_ipending = false;
	s->rx_head = s->rx_len = 0;
	serial_update_irq(s);
}

static void serial_save(struct device *dev, struct vmstate_writer *w)
{
	struct serial *s = to_serial(dev);
	uint8_t rx[UART_RX_FIFO];

	for (unsigned int i = 0; i < s->rx_len; i++)
		rx[i] = s->rx[(s->rx_head + i) % UART_RX_FIFO];
	vmstate_put_u32(w, "ier", s->ier);
	vmstate_put_u32(w, "lcr", s->lcr);
	vmstate_put_u32(w, "mcr", s->mcr);
	vmstate_put_u32(w, "scr", s->scr);
	vmstate_put_u32(w, "divisor", s->dll | s->dlm << 8);
	vmstate_put_u32(w, "fifo-enabled", s->fifo_enabled);
	vmstate_put_u32(w, "thr-ipending", s->thr_ipending);
	vmstate_put_u32(w, "irq-level", s->irq_level);
	vmstate_put_blob(w, "rx", rx, s->rx_len);
}

static int serial_restore(struct device *dev, const struct vmstate *vs,
			  int node, struct err *e)
{
	struct serial *s = to_serial(dev);
	uint32_t v[8];
	static const char *const names[] = {
		"ier", "lcr", "mcr", "scr", "divisor", "fifo-enabled",
		"thr-ipending", "irq-level",
	};
	const void *rx;
	size_t rx_len;

	for (unsigned int i = 0; i < ARRAY_SIZE(names); i++)
		if (vmstate_get_u32(vs, node, names[i], &v[i], e))
			return -EINVAL;
	if (vmstate_get_blob_ptr(vs, node, "rx", &rx, &rx_len, UART_RX_FIFO, e))
		return -EINVAL;
	if (v[0] > IER_MASK || v[1] > 0xff || v[2] > MCR_MASK || v[3] > 0xff ||
	    v[4] > 0xffff || v[5] > 1 || v[6] > 1 || v[7] > 1)
		return err_set(e, EINVAL, "serial: register value out of range");
	s->ier = v[0];
	s->lcr = v[1];
	s->mcr = v[2];
	s->scr = v[3];
	s->dll = v[4] & 0xff;
	s->dlm = v[4] >> 8;
	s->fifo_enabled = v[5];
	s->thr_ipending = v[6];
	/* The irqchip's saved state already holds the line level. */
	s->irq_level = v[7];
	memcpy(s->rx, rx, rx_len);
	s->rx_head = 0;
	s->rx_len = rx_len;
	return 0;
}

static void serial_destroy(struct device *dev)
{
	free(to_serial(dev));
}

/* Console input, on the main thread. */
static size_t serial_console_input(void *opaque, const uint8_t *buf,
				   size_t len)
{
	struct serial *s = opaque;
	size_t n;

	pthread_mutex_lock(&s->dev.lock);
	n = serial_rx_push(s, buf, len);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->dev.lock);
	return n;
}

static const struct device_ops serial_ops = {
	.name = "serial",
	.read = serial_read,
	.write = serial_write,
	.reset = serial_reset,
	.save = serial_save,
	.restore = serial_restore,
	.destroy = serial_destroy,
};

static int serial_setup(struct dev_host *host, const struct dev_config *cfg,
			struct err *e)
{
	struct serial *s = calloc(1, sizeof(*s));
	struct console_sink sink = { serial_console_input, s };
	int ret;

	if (!s)
		return err_set(e, ENOMEM, "out of memory for the serial port");
	device_init(&s->dev, &serial_ops, host);
	serial_reset(&s->dev);
	ret = host_add_device(host, &s->dev);
	if (ret) {
		free(s);
		return err_set(e, -ret, "serial: cannot add device");
	}
	if (cfg->console == CONSOLE_SERIAL)
		console_set_sink(host->console, &sink);
	return host_add_pio(host, COM1_BASE, UART_NR_PORTS, &s->dev, e);
}

const struct device_desc serial_device = {
	.name = "serial",
	.setup = serial_setup,
};
