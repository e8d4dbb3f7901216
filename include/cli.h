/* SPDX-License-Identifier: MIT */
/* The command line: subcommands, option parsing helpers, exit statuses. */
#ifndef GMVM_CLI_H
#define GMVM_CLI_H

#include <stdint.h>

#include "err.h"

/* Exit statuses of gmvm (a guest may also set its own, see README). */
#define EXIT_GUEST_OK 0
#define EXIT_FAILURE_RUNTIME 1	/* guest or monitor failure */
#define EXIT_BAD_INPUT 2	/* bad usage or bad input file */

/*
 * Parse a size: digits with an optional binary suffix K, M, G or T (any case,
 * optionally followed by "iB" or "B"); a bare number counts in units of
 * default_unit bytes. Returns 0, or -EINVAL (malformed, e says why) or
 * -ERANGE (over 2^64).
 */
int parse_size(const char *s, uint64_t default_unit, uint64_t *out,
	       struct err *e);

/* Parse a decimal integer in [min, max]. Returns 0, -EINVAL or -ERANGE (e set). */
int parse_uint(const char *s, unsigned long min, unsigned long max,
	       unsigned long *out, struct err *e);

struct disk_config;
struct net_config;

/* "PATH[,ro]" (a trailing ",rw" is allowed too). Returns 0 or -EINVAL. */
int parse_disk_spec(char *s, struct disk_config *d, struct err *e);
/* "tap=NAME[,mac=XX:XX:XX:XX:XX:XX]". Returns 0 or -EINVAL. */
int parse_net_spec(const char *s, struct net_config *n, struct err *e);
/* A unicast MAC address "xx:xx:xx:xx:xx:xx". Returns 0 or -EINVAL. */
int parse_mac(const char *s, uint8_t mac[6], struct err *e);

struct privdrop;
/* --chroot DIR (absolute), --uid N, --gid N into p. 0 or -EINVAL. */
int parse_privdrop_option(struct privdrop *p, const char *name,
			  const char *arg, struct err *e);

int cmd_run(int argc, char **argv);
int cmd_caps(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
/* pause, resume, snapshot, stats, status, stop: argv[0] names which. */
int cmd_control(int argc, char **argv);

extern const char gmvm_version[];

#endif /* GMVM_CLI_H */
