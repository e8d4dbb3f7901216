// SPDX-License-Identifier: MIT
/* The test guest's little libc: memory, strings, the serial console. */
#include "guest.h"

void *memset(void *s, int c, size_t n)
{
	unsigned char *p = s;

	while (n--)
		*p++ = c;
	return s;
}

void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	while (n--)
		*dp++ = *sp++;
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	if (dp < sp)
		return memcpy(d, s, n);
	while (n--)
		dp[n] = sp[n];
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

#define LSR 5
#define LSR_THRE 0x20

void putc_serial(char c)
{
	/* Bounded wait: a missing UART must not hang the guest. */
	for (int i = 0; i < 100000 && !(inb(PORT_COM1 + LSR) & LSR_THRE); i++)
		cpu_relax();
	outb(PORT_COM1, c);
}

#define LSR_DR 0x01

/* The next byte received on COM1; waits for it. */
int getc_serial(void)
{
	while (!(inb(PORT_COM1 + LSR) & LSR_DR))
		cpu_relax();
	return inb(PORT_COM1);
}

void puts_serial(const char *s)
{
	while (*s)
		putc_serial(*s++);
}

static void put_num(uint64_t v, unsigned int base, int width, char pad)
{
	char buf[24];
	int n = 0;

	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n < width--)
		putc_serial(pad);
	while (n)
		putc_serial(buf[--n]);
}

/* %s %c %d %u %x %p, with l/ll, '#', '0', a width and %.*s. */
void vprintf(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		bool alt = false, is_long = false;
		char pad = ' ';
		int width = 0, prec = -1;
		const char *str;
		int64_t sv;

		if (*fmt != '%') {
			putc_serial(*fmt);
			continue;
		}
		fmt++;
		if (*fmt == '#')
			alt = true, fmt++;
		if (*fmt == '0')
			pad = '0', fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		if (fmt[0] == '.' && fmt[1] == '*') {
			prec = va_arg(ap, int);
			fmt += 2;
		}
		while (*fmt == 'l')
			is_long = true, fmt++;
		switch (*fmt) {
		case 's':
			str = va_arg(ap, const char *);
			for (; *str && prec != 0; str++, prec--)
				putc_serial(*str);
			break;
		case 'c':
			putc_serial(va_arg(ap, int));
			break;
		case 'd':
			sv = is_long ? va_arg(ap, int64_t) : va_arg(ap, int);
			if (sv < 0) {
				putc_serial('-');
				sv = -sv;
			}
			put_num(sv, 10, width, pad);
			break;
		case 'u':
			put_num(is_long ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int),
				10, width, pad);
			break;
		case 'p':
			alt = true;
			is_long = true;
			/* fall through */
		case 'x':
			if (alt)
				puts_serial("0x");
			put_num(is_long ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int),
				16, width, pad);
			break;
		default:
			putc_serial('%');
			putc_serial(*fmt);
			break;
		}
	}
}

void printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

void guest_exit(int status)
{
	outl(PORT_DEBUG_EXIT, status);
	/* Not under gmvm or QEMU with a debug-exit device: spin quietly. */
	for (;;)
		cpu_relax();
}

bool parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (!len)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* Digits with an optional K, M or G suffix. */
bool parse_size(const char *s, size_t len, uint64_t *out)
{
	unsigned int shift = 0;

	if (len && (s[len - 1] == 'K' || s[len - 1] == 'k'))
		shift = 10;
	else if (len && (s[len - 1] == 'M' || s[len - 1] == 'm'))
		shift = 20;
	else if (len && (s[len - 1] == 'G' || s[len - 1] == 'g'))
		shift = 30;
	if (shift)
		len--;
	if (!parse_u64(s, len, out) || *out > (UINT64_MAX >> shift))
		return false;
	*out <<= shift;
	return true;
}
