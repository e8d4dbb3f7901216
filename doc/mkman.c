// SPDX-License-Identifier: MIT
/*
 * mkman TEMPLATE: the man page, with each kind of device's options (their
 * man entries, devices/device_table.c) where TEMPLATE says
 * @DEVICE_OPTIONS_RUN@ and @DEVICE_OPTIONS_RESTORE@, on stdout. `make man`
 * writes doc/gmvm.1 with it; tests/man.sh fails when that is stale.
 */
#include <stdio.h>
#include <string.h>

#include "device.h"

int main(int argc, char **argv)
{
	char line[4096];
	FILE *in;

	if (argc != 2 || !(in = fopen(argv[1], "r"))) {
		fprintf(stderr, "usage: mkman TEMPLATE\n");
		return 2;
	}
	while (fgets(line, sizeof(line), in)) {
		if (!strcmp(line, "@DEVICE_OPTIONS_RUN@\n"))
			dev_options_man(stdout, false);
		else if (!strcmp(line, "@DEVICE_OPTIONS_RESTORE@\n"))
			dev_options_man(stdout, true);
		else
			fputs(line, stdout);
	}
	fclose(in);
	return ferror(stdout) ? 1 : 0;
}
