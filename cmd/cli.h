/* SPDX-License-Identifier: MIT */
/* The command line: subcommands, option parsing helpers, exit statuses. */
#ifndef GMVM_CLI_H
#define GMVM_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "console.h"
#include "err.h"
#include "sandbox.h"
#include "vm.h"


#include "parse.h"

struct privdrop;
/* --chroot DIR (absolute), --uid N, --gid N into p. 0 or -EINVAL. */
int parse_privdrop_option(struct privdrop *p, const char *name,
			  const char *arg, struct err *e);

/* Options run and restore share (cmd/cli_common.c), and their long forms. */
enum {
	OPT_BACKEND = 0x100,
	OPT_CONSOLE,
	OPT_CONTROL,
	OPT_STATS,
	OPT_SECCOMP,
	OPT_CHROOT,
	OPT_UID,
	OPT_GID,
	OPT_ASYNC_TEARDOWN,
	OPT_COMMON_END,		/* a command's own options start here */
};

#define CLI_COMMON_OPTIONS						\
	{ "memory-backend", required_argument, NULL, OPT_BACKEND },	\
	{ "console", required_argument, NULL, OPT_CONSOLE },		\
	{ "control", required_argument, NULL, OPT_CONTROL },		\
	{ "stats", required_argument, NULL, OPT_STATS },		\
	{ "seccomp", required_argument, NULL, OPT_SECCOMP },		\
	{ "chroot", required_argument, NULL, OPT_CHROOT },		\
	{ "uid", required_argument, NULL, OPT_UID },			\
	{ "gid", required_argument, NULL, OPT_GID },			\
	{ "async-teardown", no_argument, NULL, OPT_ASYNC_TEARDOWN },	\
	{ "verbose", no_argument, NULL, 'v' },				\
	{ "quiet", no_argument, NULL, 'q' },				\
	{ "help", no_argument, NULL, 'h' }

/*
 * One of the shared options (or -v, -q) into c. Returns 0, -EINVAL with e
 * set, or 1 when opt is not one of them.
 */
int cli_common_option(struct vm_options *c, int opt, const char *arg,
		      struct err *e);

/* A command's own options: 0, -EINVAL with e set, or 1 for "not mine". */
typedef int (*cli_option_fn)(void *ctx, int opt, char *arg, struct err *e);

/*
 * getopt_long over argv, each option to fn. Returns 0, 'h' or 'V' when
 * help or the version was asked for, or -EINVAL with e naming the unknown
 * option, missing value or stray argument.
 */
/*
 * cli_parse() with a command's own options (n of them, no terminator)
 * followed by the devices' (gmvm run's, or restore's when restore), which
 * reach fn as device_base + i for the i-th (dev_option_name()).
 */
int cli_parse_with_devices(int argc, char **argv, const char *shortopts,
			   const struct option *own, size_t n, int device_base,
			   bool restore, cli_option_fn fn, void *ctx, struct err *e);

/* A usage text with the devices' options where its "%s" is. */
void cli_print_usage(const char *usage, bool restore);

int cli_parse(int argc, char **argv, const char *shortopts,
	      const struct option *longopts, cli_option_fn fn, void *ctx,
	      struct err *e);

/*
 * The commands, argv[0] their name. Each returns the exit status it ends
 * with (0, or the status a guest chose), or -errno with e set and classed:
 * main() alone turns a class into a status and prints the message.
 */
int cmd_run(int argc, char **argv, struct err *e);
int cmd_run_fuzz_boot(int argc, char **argv, const char *dir, struct err *e);
int cmd_fuzz(int argc, char **argv, struct err *e);
int cmd_caps(int argc, char **argv, struct err *e);
int cmd_restore(int argc, char **argv, struct err *e);
int cmd_inspect(int argc, char **argv, struct err *e);
/* pause, resume, snapshot, stats, status, stop, balloon. */
int cmd_control(int argc, char **argv, struct err *e);

/*
 * The control client (cmd/control_client.c): send one request line to the
 * socket at path and read the reply line into reply (NUL-terminated).
 * Returns 0 or -errno, e set.
 */
int control_request(const char *path, const char *request, char *reply,
		    size_t size, struct err *e);

/* Print what caps_probe() found as text, or as one JSON object (cmd/caps_print.c). */
struct host_caps;
void caps_print_text(const struct host_caps *caps);
int caps_print_json(const struct host_caps *caps);

extern const char gmvm_version[];

#endif /* GMVM_CLI_H */
