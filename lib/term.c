// SPDX-License-Identifier: MIT
/*
 * Raw mode for a TTY console, restored on every way out: normal return, exit(),
 * and fatal signals (whose handlers restore, then re-raise with the default
 * action so the exit status still tells what happened).
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "console.h"

static struct termios saved_termios;
static int saved_fd = -1;

void term_restore(void)
{
	/* Async-signal-safe: only tcsetattr. */
	if (saved_fd >= 0)
		tcsetattr(saved_fd, TCSANOW, &saved_termios);
}

static void term_fatal_signal(int sig)
{
	term_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

int term_raw_begin(int fd)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
	struct termios raw;

	if (tcgetattr(fd, &saved_termios) < 0)
		return -errno;
	raw = saved_termios;
	/*
	 * Input raw, signals off (Ctrl-C belongs to the guest); output
	 * processing stays on so the monitor's own messages keep their
	 * line ends.
	 */
	raw.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR |
			 ICRNL | IXON);
	raw.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	saved_fd = fd;
	atexit(term_restore);
	for (unsigned int i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		signal(fatal[i], term_fatal_signal);
	if (tcsetattr(fd, TCSANOW, &raw) < 0) {
		saved_fd = -1;
		return -errno;
	}
	return 0;
}
