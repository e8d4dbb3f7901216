// SPDX-License-Identifier: MIT
/*
 * A tiny stand-in for afl-fuzz's side of the forkserver protocol, for
 * tests/bats/fuzz.bats: it sets up the coverage map and (unless --no-shm)
 * the test-case segment, starts the target on fds 198/199, checks its
 * hello, and runs each input file given, printing per run
 *
 *   run N: status S pid P map M
 *
 * (S the wait status read back, M the number of non-zero map bytes). With
 * --kill-after MS (default 10000, as afl-fuzz always has one) a run not
 * answered within MS milliseconds has its pid
 * killed with SIGKILL, as afl-fuzz does on a timeout, and prints "timeout"
 * before the status. Without shared-memory test cases the input goes
 * through a file on the target's stdin, rewritten each run, or with
 * --file PATH into PATH, removed and made again each run as afl-fuzz's @@.
 *
 *   afl_fake [--no-shm] [--file PATH] [--kill-after MS] [--map-size N] INPUT... -- TARGET...
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define FORKSRV_FD 198
#define FS_OPT_ENABLED 0x80000001u
#define FS_OPT_MAPSIZE 0x40000000u
#define FS_OPT_SHDMEM_FUZZ 0x01000000u
#define FS_OPT_GET_MAPSIZE(x) ((((x) & 0x00fffffeu) >> 1) + 1)
#define MAX_FILE (1u << 20)

static void die(const char *what)
{
	fprintf(stderr, "afl_fake: %s: %s\n", what, strerror(errno));
	exit(2);
}

static int read_u32(int fd, uint32_t *v, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = poll(&p, 1, timeout_ms);

	if (n == 0)
		return 1;	/* timed out */
	if (n < 0 || read(fd, v, 4) != 4)
		return -1;
	return 0;
}

static void write_u32(int fd, uint32_t v)
{
	if (write(fd, &v, 4) != 4)
		die("write to the target");
}

int main(int argc, char **argv)
{
	int kill_after = 10000, shm = 1, first = 1, ctl[2], st[2], map_id, cases_id = -1;
	unsigned int map_size = 65536;
	uint8_t *map, *cases = NULL;
	char env[64], input_path[] = "/tmp/afl_fake.XXXXXX";
	const char *file = NULL;
	int input_fd, i, end;
	uint32_t hello, v;
	pid_t target;

	for (; first < argc && !strncmp(argv[first], "--", 2) && argv[first][2]; first++) {
		if (!strcmp(argv[first], "--no-shm"))
			shm = 0;
		else if (!strcmp(argv[first], "--file") && first + 1 < argc)
			file = argv[++first], shm = 0;
		else if (!strcmp(argv[first], "--kill-after") && first + 1 < argc)
			kill_after = atoi(argv[++first]);
		else if (!strcmp(argv[first], "--map-size") && first + 1 < argc)
			map_size = strtoul(argv[++first], NULL, 0);
		else
			break;
	}
	for (end = first; end < argc && strcmp(argv[end], "--"); end++)
		;
	if (end >= argc - 1) {
		fprintf(stderr, "usage: afl_fake [--no-shm] [--file PATH] [--kill-after MS] [--map-size N] INPUT... -- TARGET...\n");
		return 2;
	}
	map_id = shmget(IPC_PRIVATE, map_size, IPC_CREAT | IPC_EXCL | 0600);
	if (map_id < 0 || (map = shmat(map_id, NULL, 0)) == (void *)-1)
		die("coverage map");
	shmctl(map_id, IPC_RMID, NULL);
	snprintf(env, sizeof(env), "%d", map_id);
	setenv("__AFL_SHM_ID", env, 1);
	if (shm) {
		cases_id = shmget(IPC_PRIVATE, MAX_FILE + 4, IPC_CREAT | IPC_EXCL | 0600);
		if (cases_id < 0 || (cases = shmat(cases_id, NULL, 0)) == (void *)-1)
			die("test-case segment");
		shmctl(cases_id, IPC_RMID, NULL);
		snprintf(env, sizeof(env), "%d", cases_id);
		setenv("__AFL_SHM_FUZZ_ID", env, 1);
	}
	input_fd = mkstemp(input_path);
	if (input_fd < 0)
		die("input file");
	unlink(input_path);
	if (pipe(ctl) || pipe(st))
		die("pipe");
	target = fork();
	if (target < 0)
		die("fork");
	if (!target) {
		if (dup2(ctl[0], FORKSRV_FD) < 0 || dup2(st[1], FORKSRV_FD + 1) < 0 ||
		    dup2(input_fd, STDIN_FILENO) < 0)
			die("dup2");
		close(ctl[0]);
		close(ctl[1]);
		close(st[0]);
		close(st[1]);
		execvp(argv[end + 1], argv + end + 1);
		die("exec");
	}
	close(ctl[0]);
	close(st[1]);
	if (read_u32(st[0], &hello, 10000)) {
		fprintf(stderr, "afl_fake: no hello from the target\n");
		return 1;
	}
	printf("hello %#x map %u shm %s\n", hello,
	       hello & FS_OPT_MAPSIZE ? FS_OPT_GET_MAPSIZE(hello) : 0,
	       hello & FS_OPT_SHDMEM_FUZZ ? "yes" : "no");
	if ((hello & FS_OPT_SHDMEM_FUZZ) && shm)
		write_u32(ctl[1], FS_OPT_ENABLED | FS_OPT_SHDMEM_FUZZ);
	for (i = first; i < end; i++) {
		static uint8_t buf[MAX_FILE];
		int fd = open(argv[i], O_RDONLY), timed_out = 0, r, nz = 0;
		ssize_t len = fd < 0 ? -1 : read(fd, buf, sizeof(buf));
		uint32_t pid, status;

		if (len < 0)
			die(argv[i]);
		close(fd);
		if (shm) {
			v = len;
			memcpy(cases, &v, 4);
			memcpy(cases + 4, buf, len);
		} else if (file) {
			int out;

			unlink(file);
			out = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600);
			if (out < 0 || write(out, buf, len) != len)
				die(file);
			close(out);
		} else if (pwrite(input_fd, buf, len, 0) != len || ftruncate(input_fd, len) ||
			   lseek(input_fd, 0, SEEK_SET) < 0) {
			die("input file");
		}
		memset(map, 0, map_size);
		write_u32(ctl[1], 0);
		if (read_u32(st[0], &pid, 10000) || (int)pid <= 0) {
			fprintf(stderr, "afl_fake: no pid for run %d\n", i - first + 1);
			return 1;
		}
		r = read_u32(st[0], &status, kill_after);
		if (r == 1) {
			timed_out = 1;
			kill(pid, SIGKILL);
			r = read_u32(st[0], &status, 10000);
		}
		if (r) {
			fprintf(stderr, "afl_fake: no status for run %d\n", i - first + 1);
			return 1;
		}
		for (unsigned int b = 0; b < map_size; b++)
			nz += map[b] != 0;
		printf("run %d: %sstatus %u pid %u map %d\n", i - first + 1,
		       timed_out ? "timeout " : "", status, pid, nz);
		fflush(stdout);
	}
	close(ctl[1]);
	if (waitpid(target, (int *)&v, 0) < 0)
		die("waitpid");
	printf("target exit %d\n", WIFEXITED(v) ? WEXITSTATUS(v) : 128 + WTERMSIG(v));
	return 0;
}
