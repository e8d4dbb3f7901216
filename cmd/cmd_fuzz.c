// SPDX-License-Identifier: MIT
/*
 * `gmvm fuzz`: fuzz guest code from a snapshot (vmm/fuzz.h has the engine).
 * Three drivers feed it inputs and take its results:
 *   - AFL++'s forkserver (afl-fuzz started gmvm: fds 198 and 199 are open),
 *     with the coverage map and the test cases in AFL++'s shared memory;
 *   - --replay FILE: one input, what happened printed;
 *   - --count N: N inputs from --inputs DIR, rates and reset times printed.
 * With `-- RUN-OPTIONS` it first boots a guest and takes the snapshot where
 * the guest asks for its first input.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "fuzz.h"
#include "log.h"
#include "restore.h"
#include "sandbox.h"
#include "vm.h"

/* AFL++'s forkserver protocol, as afl-fuzz 4.x speaks it. */
#define AFL_FORKSRV_FD 198
#define AFL_FS_OPT_ENABLED 0x80000001u
#define AFL_FS_OPT_MAPSIZE 0x40000000u
#define AFL_FS_OPT_SHDMEM_FUZZ 0x01000000u
#define AFL_FS_OPT_MAX_MAPSIZE ((0x00fffffeu >> 1) + 1)
#define AFL_FS_OPT_SET_MAPSIZE(x) \
	((x) <= 1 || (x) > AFL_FS_OPT_MAX_MAPSIZE ? 0 : (((x) - 1) << 1))
/* The test-case segment: a 32-bit length, then up to 1 MiB of data. */
#define AFL_MAX_FILE (1u << 20)

#define FUZZ_TIMEOUT_DEFAULT_MS 1000
#define FUZZ_TIMEOUT_MAX_MS 3600000
/* --count keeps its inputs in memory: no more than this in all. */
#define FUZZ_INPUTS_MAX_BYTES (256u << 20)

static const char fuzz_usage[] =
	"Usage: gmvm fuzz --snapshot DIR [OPTION]... [-- RUN-OPTIONS]\n"
	"Fuzz guest code from a snapshot: each input runs from the snapshot's\n"
	"instant, and the VM is put back in place after each run (the pages it\n"
	"wrote, vCPU, devices, clock). The guest speaks guest/gmvm_fuzz.h.\n"
	"\n"
	"  -s, --snapshot DIR        the snapshot to fuzz from; with -- RUN-OPTIONS,\n"
	"                            a new one: gmvm boots a guest with the options\n"
	"                            of gmvm run and snapshots where it first asks\n"
	"                            for an input\n"
	"  -t, --timeout MS          a run longer than MS milliseconds (1 to 3600000,\n"
	"                            default 1000) is stopped and reported a hang\n"
	"      --replay FILE         run the input in FILE once, say what happened\n"
	"      --count N             run N inputs, the files of --inputs in turn,\n"
	"                            and print execs/s, dirty pages per run and\n"
	"                            reset times\n"
	"      --inputs DIR          --count's inputs\n"
	"      --input FILE          under afl-fuzz without shared-memory test\n"
	"                            cases: read each input from FILE (@@), not stdin\n"
	"      --dirty-tracking HOW  kvm-dirty-log, uffd-wp-async or auto (default:\n"
	"                            the first that works, as gmvm caps shows)\n"
	"      --memory-backend NAME memfd (default) or anon\n"
	"      --seccomp MODE        kill (default), log or off\n"
	"  -v, --verbose             more messages; twice for debugging\n"
	"  -q, --quiet               only warnings and errors\n"
	"  -h, --help                show this help\n"
	"\n"
	"Without --replay or --count, gmvm fuzz serves afl-fuzz as its forkserver:\n"
	"  afl-fuzz -i SEEDS -o OUT -- gmvm fuzz --snapshot DIR\n"
	"and with -- RUN-OPTIONS alone it only writes the snapshot.\n"
	"\n"
	"Exit status: 0; 1 when gmvm failed, or the input --replay ran crashed or\n"
	"hung; 2 for bad options, a snapshot not taken for fuzzing, or a host\n"
	"that cannot track the pages a run writes.\n";

enum {
	OPT_REPLAY = OPT_COMMON_END,
	OPT_COUNT,
	OPT_INPUTS,
	OPT_INPUT,
	OPT_DIRTY,
};

static const struct option fuzz_options[] = {
	{ "snapshot", required_argument, NULL, 's' },
	{ "timeout", required_argument, NULL, 't' },
	{ "replay", required_argument, NULL, OPT_REPLAY },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "inputs", required_argument, NULL, OPT_INPUTS },
	{ "input", required_argument, NULL, OPT_INPUT },
	{ "dirty-tracking", required_argument, NULL, OPT_DIRTY },
	/* Of the options run and restore share, those that apply here. */
	{ "memory-backend", required_argument, NULL, OPT_BACKEND },
	{ "seccomp", required_argument, NULL, OPT_SECCOMP },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct fuzz_opts {
	const char *dir;
	uint64_t timeout_ms;
	const char *replay;
	unsigned long count;
	const char *inputs;
	const char *input;
	enum dirty_tracking tracking;
	struct vm_options common;
	int run_argc;			/* after --: gmvm run's options */
	char **run_argv;
};

struct fuzz_input {
	uint8_t *data;
	size_t len;
};

/* What every driver keeps: inputs, results, timings. */
struct fuzz_session {
	const struct fuzz_opts *o;
	/* --replay, --count */
	struct fuzz_input *inputs;
	size_t nr_inputs;
	unsigned long next;
	unsigned long runs, ok, crashes, hangs, device_resets;
	uint64_t first_ns, last_ns;
	uint64_t *reset_ns;		/* per run, for percentiles */
	uint64_t pages_sum, pages_max;
	struct fuzz_result last;	/* --replay's */
	/* AFL++ */
	uint8_t *afl_map;
	uint64_t afl_map_len;
	uint8_t *afl_cases;		/* the test-case segment, or NULL */
	bool afl_started;
	pid_t helper;			/* the pid AFL++ kills on a timeout */
	const atomic_bool *ending;	/* the VM is ending: stop waiting */
	int helper_status;
	bool helper_dead;
};

static int fuzz_option(void *ctx, int opt, char *arg, struct err *e)
{
	static const char *const how[] = { "auto", "kvm-dirty-log", "uffd-wp-async" };
	static const enum dirty_tracking hows[] = {
		DIRTY_NONE, DIRTY_KVM_LOG, DIRTY_UFFD_WP_ASYNC,
	};
	struct fuzz_opts *o = ctx;
	const struct guest_mem_backend *b;
	unsigned long n;
	int i;

	switch (opt) {
	case 's':
		o->dir = arg;
		return 0;
	case 't':
		if (parse_uint(arg, 1, FUZZ_TIMEOUT_MAX_MS, &n, e))
			return err_prefix(e, "--timeout");
		o->timeout_ms = n;
		return 0;
	case OPT_REPLAY:
		o->replay = arg;
		return 0;
	case OPT_COUNT:
		if (parse_uint(arg, 1, ULONG_MAX, &o->count, e))
			return err_prefix(e, "--count");
		return 0;
	case OPT_INPUTS:
		o->inputs = arg;
		return 0;
	case OPT_INPUT:
		o->input = arg;
		return 0;
	case OPT_DIRTY:
		i = parse_choice("--dirty-tracking", "way", arg, how, ARRAY_SIZE(how), e);
		if (i < 0)
			return i;
		o->tracking = hows[i];
		return 0;
	case OPT_BACKEND:
		/* guest_memfd pages cannot be tracked: one backend less. */
		b = guest_mem_backend_find(arg);
		if (!b || b->kind == GUEST_MEM_GMEM)
			return err_set(e, EINVAL, "--memory-backend: '%s' is not one gmvm fuzz can use (memfd or anon)",
				       arg);
		return cli_common_option(&o->common, opt, arg, e);
	default:
		return cli_common_option(&o->common, opt, arg, e);
	}
}

/* Whether afl-fuzz started us: its map is named and its two forkserver descriptors are open. */
static bool fuzz_under_afl(void)
{
	return getenv("__AFL_SHM_ID") && fcntl(AFL_FORKSRV_FD, F_GETFD) >= 0 &&
	       fcntl(AFL_FORKSRV_FD + 1, F_GETFD) >= 0;
}

static int fuzz_parse(struct fuzz_opts *o, int argc, char **argv, struct err *e)
{
	int ret, end = argc;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			end = i;
			/* getopt wants a program name first: "run" takes the "--". */
			argv[i] = "run";
			o->run_argc = argc - i;
			o->run_argv = argv + i;
			break;
		}
	ret = cli_parse(end, argv, ":s:t:vqh", fuzz_options, fuzz_option, o, e);
	if (ret)
		return ret;
	if (!o->dir)
		return err_set(e, EINVAL, "--snapshot is required");
	if (o->replay && o->count)
		return err_set(e, EINVAL, "--replay and --count do not go together");
	if (o->count && !o->inputs)
		return err_set(e, EINVAL, "--count needs --inputs DIR");
	if (o->inputs && !o->count)
		return err_set(e, EINVAL, "--inputs goes with --count");
	if (o->input && (o->replay || o->count))
		return err_set(e, EINVAL, "--input is for afl-fuzz's @@, not for --replay or --count");
	if (o->run_argc && o->run_argc < 2)
		return err_set(e, EINVAL, "--: gmvm run's options are missing after it");
	return 0;
}

/* --- Inputs from files ----------------------------------------------------- */

/* A regular file's bytes (open_regular: a FIFO or a device is never opened). */
static int fuzz_read_file(const char *path, struct fuzz_input *in, struct err *e)
{
	struct stat st;
	ssize_t n;
	int fd;

	fd = open_regular(path, false, &st);
	if (fd < 0)
		return err_set(e, -fd, "%s %s", path, open_regular_error(fd, &st));
	if (st.st_size > FUZZ_INPUT_MAX) {
		close(fd);
		return err_set(e, EFBIG, "%s: %lld bytes, more than the %u MiB of an input",
			       path, (long long)st.st_size, FUZZ_INPUT_MAX >> 20);
	}
	in->data = malloc(st.st_size + 1);
	if (!in->data) {
		close(fd);
		return err_set(e, ENOMEM, "out of memory");
	}
	n = pread(fd, in->data, st.st_size, 0);
	close(fd);
	if (n < 0)
		return err_set(e, errno, "%s: %s", path, strerror(errno));
	in->len = n;
	return 0;
}

static int fuzz_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* --inputs DIR: its regular files in name order, read once. */
static int fuzz_read_dir(struct fuzz_session *s, const char *dir, struct err *e)
{
	char path[PATH_MAX], **names = NULL;
	size_t n = 0, total = 0;
	struct dirent *d;
	int ret = 0;
	DIR *dp = opendir(dir);

	if (!dp)
		return err_set(e, errno, "--inputs %s: %s", dir, strerror(errno));
	while ((d = readdir(dp))) {
		char **more;

		if (d->d_name[0] == '.')
			continue;
		more = realloc(names, (n + 1) * sizeof(*names));
		if (!more || !(more[n] = strdup(d->d_name))) {
			names = more ? more : names;
			ret = err_set(e, ENOMEM, "out of memory");
			break;
		}
		names = more;
		n++;
	}
	closedir(dp);
	if (!ret && !n)
		ret = err_set(e, ENOENT, "--inputs %s: no files", dir);
	if (!ret) {
		qsort(names, n, sizeof(*names), fuzz_name_cmp);
		s->inputs = calloc(n, sizeof(*s->inputs));
		if (!s->inputs)
			ret = err_set(e, ENOMEM, "out of memory");
	}
	for (size_t i = 0; !ret && i < n; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= sizeof(path))
			ret = err_set(e, ENAMETOOLONG, "--inputs %s/%s: name too long",
				      dir, names[i]);
		else if (!fuzz_read_file(path, &s->inputs[i], e))
			s->nr_inputs = i + 1;
		else
			ret = -e->errnum;
		total += s->inputs[i].len;
		if (!ret && total > FUZZ_INPUTS_MAX_BYTES)
			ret = err_set(e, EFBIG, "--inputs %s: more than %u MiB of inputs",
				      dir, FUZZ_INPUTS_MAX_BYTES >> 20);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ret;
}

static long fuzz_copy_input(const struct fuzz_input *in, uint8_t *buf, uint64_t cap)
{
	size_t len = in->len < cap ? in->len : cap;

	memcpy(buf, in->data, len);
	return (long)len;
}

/* --- --replay and --count -------------------------------------------------- */

static long list_next(void *opaque, uint8_t *buf, uint64_t cap, struct err *e)
{
	struct fuzz_session *s = opaque;
	unsigned long total = s->o->replay ? 1 : s->o->count;

	(void)e;
	if (s->next >= total)
		return -1;
	if (!s->next)
		s->first_ns = time_now_ns();
	return fuzz_copy_input(&s->inputs[s->next++ % s->nr_inputs], buf, cap);
}

static int list_report(void *opaque, const struct fuzz_result *r, struct err *e)
{
	struct fuzz_session *s = opaque;

	(void)e;
	s->runs++;
	s->last = *r;
	s->last_ns = time_now_ns();
	if (r->outcome == FUZZ_OK)
		s->ok++;
	else if (r->outcome == FUZZ_CRASH)
		s->crashes++;
	else if (r->outcome == FUZZ_HANG)
		s->hangs++;
	if (s->o->count && r->outcome != FUZZ_OK && s->crashes + s->hangs <= 3)
		log_notice("gmvm fuzz: run %lu: %s", s->runs,
			   r->outcome == FUZZ_HANG ? "hang" : r->what);
	return 0;
}

static void list_reset_done(void *opaque, const struct fuzz_reset_stats *st)
{
	struct fuzz_session *s = opaque;

	if (s->reset_ns && s->runs && s->runs <= s->o->count)
		s->reset_ns[s->runs - 1] = st->ns;
	s->pages_sum += st->pages;
	if (st->pages > s->pages_max)
		s->pages_max = st->pages;
	s->device_resets += st->devices;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double percentile_us(const uint64_t *sorted, unsigned long n, double p)
{
	unsigned long i = (unsigned long)(p * (n - 1) + 0.5);

	return n ? sorted[i] / 1000.0 : 0;
}

static void count_print(struct fuzz_session *s)
{
	double secs = (s->last_ns - s->first_ns) / 1e9;
	unsigned long n = s->runs < s->o->count ? s->runs : s->o->count;

	if (s->reset_ns)
		qsort(s->reset_ns, n, sizeof(*s->reset_ns), u64_cmp);
	printf("runs %lu in %.3f s: %.0f execs/s\n", s->runs, secs,
	       secs > 0 ? s->runs / secs : 0);
	printf("ok %lu, crashes %lu, hangs %lu\n", s->ok, s->crashes, s->hangs);
	printf("dirty pages per run: mean %.1f, max %llu\n",
	       s->runs ? (double)s->pages_sum / s->runs : 0,
	       (unsigned long long)s->pages_max);
	printf("reset us: p50 %.1f, p90 %.1f, p99 %.1f, max %.1f\n",
	       percentile_us(s->reset_ns, n, 0.5), percentile_us(s->reset_ns, n, 0.9),
	       percentile_us(s->reset_ns, n, 0.99), percentile_us(s->reset_ns, n, 1));
	printf("device state reset after %lu runs\n", s->device_resets);
}

static int replay_print(const struct fuzz_session *s)
{
	const struct fuzz_result *r = &s->last;

	switch (r->outcome) {
	case FUZZ_OK:
		printf("ok: the guest finished in %.1f us\n", r->run_ns / 1000.0);
		return 0;
	case FUZZ_CRASH:
		printf("crash: %s\n", r->what);
		return 1;
	case FUZZ_HANG:
		printf("hang: still running after %llu ms\n",
		       (unsigned long long)s->o->timeout_ms);
		return 1;
	default:
		printf("stopped before the run ended\n");
		return 1;
	}
}

/* --- AFL++'s forkserver ----------------------------------------------------- */

static char fuzz_helper_stack[16384] __attribute__((aligned(16)));

/*
 * The helper's life: nothing, until AFL++ kills it (or gmvm ends). It
 * shares gmvm's memory and runs on its own stack; it touches no libc state.
 * SIGKILL comes when its parent goes, from the moment it asks; a gmvm gone
 * before that (it is then init's) is seen by its parent's pid, arg. Its
 * copies of gmvm's descriptors are closed: it holds no pipe open.
 */
static int fuzz_helper(void *arg)
{
	syscall(SYS_close_range, 0, ~0u, 0);
	syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (syscall(SYS_getppid) != (long)(intptr_t)arg)
		syscall(SYS_exit_group, 0);
	for (;;)
		syscall(SYS_pause);
	return 0;
}

static bool afl_ending(const struct fuzz_session *s)
{
	return s->ending && atomic_load(s->ending);
}

/* 0, -EPIPE at afl-fuzz's end, -EINTR when the VM is ending, or -EIO. */
static int afl_read(struct fuzz_session *s, uint32_t *v)
{
	ssize_t n;

	do
		n = read(AFL_FORKSRV_FD, v, 4);
	while (n < 0 && errno == EINTR && !afl_ending(s));
	return n == 4 ? 0 : n == 0 ? -EPIPE : n < 0 && errno == EINTR ? -EINTR : -EIO;
}

static int afl_write(uint32_t v, struct err *e)
{
	ssize_t n;

	do
		n = write(AFL_FORKSRV_FD + 1, &v, 4);
	while (n < 0 && errno == EINTR);
	return n == 4 ? 0 : err_set(e, EPIPE, "afl-fuzz's forkserver pipe: %s",
				    n < 0 ? strerror(errno) : "short write");
}

/* Hello to afl-fuzz: the map size the guest asked for, test cases in shm. */
static int afl_handshake(struct fuzz_session *s, const struct fuzz_guest *g,
			 struct err *e)
{
	uint32_t hello = AFL_FS_OPT_ENABLED, reply;

	if (g->coverage_size)
		hello |= AFL_FS_OPT_MAPSIZE | AFL_FS_OPT_SET_MAPSIZE(g->coverage_size);
	if (s->afl_cases)
		hello |= AFL_FS_OPT_SHDMEM_FUZZ;
	if (afl_write(hello, e))
		return -e->errnum;
	if (!s->afl_cases)
		return 0;
	if (afl_read(s, &reply) || reply != (AFL_FS_OPT_ENABLED | AFL_FS_OPT_SHDMEM_FUZZ))
		return err_set(e, EPROTO, "afl-fuzz did not take shared-memory test cases");
	return 0;
}

static int afl_spawn_helper(struct fuzz_session *s, struct err *e)
{
	pid_t pid = clone(fuzz_helper, fuzz_helper_stack + sizeof(fuzz_helper_stack),
			  FUZZ_HELPER_CLONE_FLAGS, (void *)(intptr_t)getpid());

	if (pid < 0)
		return err_set(e, errno, "starting the process afl-fuzz times runs by: %s",
			       strerror(errno));
	s->helper = pid;
	s->helper_dead = false;
	return 0;
}

/*
 * Whether AFL++ killed the helper (reaped here, its status kept); with
 * wait, after waiting for that, unless the VM ends first.
 */
static bool afl_helper_gone(struct fuzz_session *s, bool wait)
{
	pid_t got;
	int status;

	if (s->helper_dead)
		return true;
	if (s->helper <= 0)
		return false;
	do
		got = waitpid(s->helper, &status, wait ? __WALL : WNOHANG | __WALL);
	while (got < 0 && errno == EINTR && wait && !afl_ending(s));
	if (got != s->helper)
		return false;
	s->helper_status = status;
	s->helper_dead = true;
	return true;
}

static long afl_input_file(struct fuzz_session *s, uint8_t *buf, uint64_t cap,
			   struct err *e)
{
	const char *path = s->o->input;
	uint64_t done = 0;
	struct stat st;
	ssize_t n;
	int fd = STDIN_FILENO;

	if (path) {
		fd = open_regular(path, false, &st);
		if (fd < 0)
			return err_set(e, -fd, "--input %s %s (afl-fuzz writes one)", path,
				       open_regular_error(fd, &st));
	} else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		return err_set(e, EINVAL, "stdin is not a regular file (afl-fuzz writes one)");
	}
	while (done < cap && (n = pread(fd, buf + done, cap - done, done)) > 0)
		done += n;
	if (path)
		close(fd);
	return (long)done;
}

static long afl_next(void *opaque, uint8_t *buf, uint64_t cap, struct err *e)
{
	struct fuzz_session *s = opaque;
	uint32_t was_killed, len;
	int ret = afl_read(s, &was_killed);

	if (ret == -EPIPE || ret == -EINTR)
		return -1;	/* afl-fuzz is done with us, or we with it */
	if (ret)
		return err_set(e, EIO, "reading afl-fuzz's forkserver pipe: %s", strerror(errno));
	if ((s->helper <= 0 || afl_helper_gone(s, false)) && afl_spawn_helper(s, e))
		return -e->errnum;
	if (afl_write((uint32_t)s->helper, e))
		return -e->errnum;
	if (!s->afl_cases)
		return afl_input_file(s, buf, cap, e);
	memcpy(&len, s->afl_cases, 4);
	if (len > AFL_MAX_FILE)
		len = AFL_MAX_FILE;
	if (len > cap)
		len = cap;
	memcpy(buf, s->afl_cases + 4, len);
	return len;
}

static bool afl_stop_run(void *opaque)
{
	return afl_helper_gone(opaque, false);
}

/*
 * What afl-fuzz reads: a wait status. A run it timed out gets the killed
 * helper's (whatever else happened); a hang gmvm stopped first waits for
 * that kill, so that afl-fuzz counts a timeout; a crash is a signal.
 */
static int afl_report(void *opaque, const struct fuzz_result *r, struct err *e)
{
	struct fuzz_session *s = opaque;
	uint32_t status = 0;

	/* A hang: afl-fuzz's own timeout kills the helper, then it reads. */
	if (r->outcome == FUZZ_HANG)
		afl_helper_gone(s, true);
	if (afl_helper_gone(s, false)) {
		status = s->helper_status;
		s->helper = 0;
	} else if (r->outcome == FUZZ_CRASH) {
		status = r->code || strstr(r->what, "reported") ? SIGABRT : SIGSEGV;
	} else if (r->outcome != FUZZ_OK) {
		/* Stopped, not by afl-fuzz: the VM is ending. */
		return err_set(e, EINTR, "stopped during a run");
	}
	return afl_write(status, e);
}

static int afl_start(void *opaque, const struct fuzz_guest *g,
		     const atomic_bool *ending, struct err *e)
{
	struct fuzz_session *s = opaque;

	s->ending = ending;
	if (s->afl_started)
		return 0;
	s->afl_started = true;
	return afl_handshake(s, g, e);
}

/* AFL++'s segments, named by the environment afl-fuzz gives its target. */
static int afl_attach(struct fuzz_session *s, struct err *e)
{
	const char *map_id = getenv("__AFL_SHM_ID");
	const char *cases_id = getenv("__AFL_SHM_FUZZ_ID");
	struct shmid_ds ds;
	unsigned long id;
	void *p;

	if (map_id) {
		if (parse_uint(map_id, 0, INT_MAX, &id, e))
			return err_prefix(e, "__AFL_SHM_ID");
		p = shmat((int)id, NULL, 0);
		if (p == (void *)-1 || shmctl((int)id, IPC_STAT, &ds) < 0)
			return err_set(e, errno, "afl-fuzz's coverage map (__AFL_SHM_ID %lu): %s",
				       id, strerror(errno));
		s->afl_map = p;
		s->afl_map_len = ds.shm_segsz;
	}
	if (cases_id) {
		if (parse_uint(cases_id, 0, INT_MAX, &id, e))
			return err_prefix(e, "__AFL_SHM_FUZZ_ID");
		p = shmat((int)id, NULL, 0);
		if (p == (void *)-1 || shmctl((int)id, IPC_STAT, &ds) < 0 ||
		    ds.shm_segsz < 4)
			return err_set(e, errno ? errno : EINVAL,
				       "afl-fuzz's test cases (__AFL_SHM_FUZZ_ID %lu): %s", id,
				       errno ? strerror(errno) : "too small");
		s->afl_cases = p;
	}
	return 0;
}

/* --- The command ------------------------------------------------------------ */

static int fuzz_boot(struct fuzz_opts *o, struct err *e)
{
	struct stat st;
	int status;

	if (lstat(o->dir, &st) == 0) {
		err_set(e, EEXIST, "--snapshot %s: already exists; -- RUN-OPTIONS makes a new snapshot (drop them to fuzz from this one)",
			o->dir);
		return err_mark(e, ERR_USAGE);
	}
	status = cmd_run_fuzz_boot(o->run_argc, o->run_argv, o->dir, e);
	if (status < 0)
		return status;
	if (lstat(o->dir, &st) < 0) {
		err_set(e, ENOENT, "the guest ended (status %d) before asking for an input: no snapshot in %s",
			status, o->dir);
		return err_mark(e, ERR_INPUT);
	}
	return 0;
}

int cmd_fuzz(int argc, char **argv, struct err *e)
{
	struct fuzz_opts o = { .timeout_ms = FUZZ_TIMEOUT_DEFAULT_MS };
	struct fuzz_session s = { .o = &o };
	struct fuzz_driver list = {
		.next = list_next, .report = list_report,
		.reset_done = list_reset_done, .opaque = &s,
	};
	struct fuzz_driver afl = {
		.start = afl_start, .next = afl_next, .report = afl_report,
		.stop_run = afl_stop_run, .opaque = &s,
	};
	struct fuzz_config fc = { 0 };
	struct restore_opts ro = { 0 };
	bool under_afl;
	sigset_t block;
	int ret;

	ret = fuzz_parse(&o, argc, argv, e);
	if (ret > 0) {
		fputs(fuzz_usage, stdout);
		return 0;
	}
	if (ret < 0)
		return err_mark(e, ERR_USAGE);
	under_afl = !o.replay && !o.count && fuzz_under_afl();
	if (!o.replay && !o.count && !under_afl && !o.run_argc) {
		err_set(e, EINVAL, "nothing to do: run it under afl-fuzz (there is no __AFL_SHM_ID, or its forkserver descriptors 198 and 199 are not open), or give --replay or --count");
		return err_mark(e, ERR_USAGE);
	}
	if (o.run_argc) {
		ret = fuzz_boot(&o, e);
		if (ret)
			return ret;
		log_notice("gmvm fuzz: snapshot written to %s", o.dir);
		if (!o.replay && !o.count && !under_afl)
			return 0;
	}
	if (o.replay) {
		s.inputs = calloc(1, sizeof(*s.inputs));
		s.nr_inputs = 1;
		if (!s.inputs || fuzz_read_file(o.replay, s.inputs, e)) {
			ret = s.inputs ? err_mark_input(e) : err_set(e, ENOMEM, "out of memory");
			goto out;
		}
	} else if (o.count) {
		s.reset_ns = calloc(o.count, sizeof(*s.reset_ns));
		if (!s.reset_ns) {
			ret = err_set(e, ENOMEM, "--count %lu: out of memory", o.count);
			goto out;
		}
		if (fuzz_read_dir(&s, o.inputs, e)) {
			ret = err_mark_input(e);
			goto out;
		}
	} else if (afl_attach(&s, e)) {
		ret = err_mark(e, ERR_RUNTIME);
		goto out;
	}
	fc = (struct fuzz_config){
		.timeout_ns = o.timeout_ms * 1000000ull,
		.tracking = o.tracking,
		.coverage = s.afl_map,
		.coverage_len = s.afl_map_len,
		.driver = under_afl ? &afl : &list,
	};
	ro = (struct restore_opts){
		.dir = o.dir,
		.mode = RESTORE_MODE_EAGER,
		.common = o.common,
		.start_ns = time_now_ns(),
		.fuzz = &fc,
	};
	/* Guest output: shown for --replay, dropped when it would be noise. */
	ro.common.console = o.replay ? CONSOLE_OUTPUT : CONSOLE_NONE;
	ro.common.console_given = true;
	/* The fuzz thread alone takes its timer's and the helper's signals. */
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	sigaddset(&block, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &block, NULL);
	if (seccomp_setup(o.common.seccomp, e)) {
		ret = err_prefix(e, "seccomp");
		goto out;
	}
	ret = restore_vm(&ro, e);
	if (ret < 0)
		goto out;
	if (o.count)
		count_print(&s);
	else if (o.replay && !ret)
		ret = replay_print(&s);
out:
	for (size_t i = 0; i < s.nr_inputs; i++)
		free(s.inputs[i].data);
	free(s.inputs);
	free(s.reset_ns);
	/* AFL++'s segments stay attached: gmvm exits next, confined. */
	return ret;
}
