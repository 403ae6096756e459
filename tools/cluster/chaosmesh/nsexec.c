/*
 * nsexec for chaos-daemon, built from source because Chaos Mesh's own
 * (github.com/chaos-mesh/nsexec, a release download) cannot be fetched here.
 * It implements the command line chaos-daemon's pkg/bpm builds:
 *
 *   nsexec [-l] [-m PATH] [-i PATH] [-n PATH] [-p PATH] -- CMD [ARGS...]
 *
 * -m/-i/-n/-p join the mount, IPC, network and PID namespaces at PATH
 * (/proc/<pid>/ns/<type>); -l runs CMD as found in the caller's mount
 * namespace (it is opened before joining the target's, then fexecve'd).
 * Joining a PID namespace only applies to children, so with -p the command
 * runs in a child and nsexec exits with its status.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct ns { int flag; const char *path; int fd; };

static int die(const char *what, const char *arg) {
	fprintf(stderr, "nsexec: %s %s: %s\n", what, arg ? arg : "", strerror(errno));
	return 127;
}

/* find CMD on PATH (or as given when it contains a slash) and open it */
static int open_cmd(const char *cmd) {
	if (strchr(cmd, '/'))
		return open(cmd, O_RDONLY | O_CLOEXEC);
	const char *path = getenv("PATH");
	if (!path) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	char buf[4096];
	for (const char *p = path; *p;) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n + strlen(cmd) + 2 < sizeof buf) {
			snprintf(buf, sizeof buf, "%.*s/%s", (int)n, p, cmd);
			if (access(buf, X_OK) == 0)
				return open(buf, O_RDONLY | O_CLOEXEC);
		}
		p += n + (end ? 1 : 0);
	}
	errno = ENOENT;
	return -1;
}

int main(int argc, char **argv) {
	/* mount last: the other paths are opened first, from the caller's /proc */
	struct ns ns[4] = {{CLONE_NEWIPC}, {CLONE_NEWNET}, {CLONE_NEWPID}, {CLONE_NEWNS}};
	int local = 0, i = 1;
	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *o = argv[i];
		if (strcmp(o, "-l") == 0) { local = 1; continue; }
		if (o[0] != '-' || strlen(o) != 2 || i + 1 >= argc) {
			fprintf(stderr, "usage: nsexec [-l] [-m|-i|-n|-p PATH]... -- CMD [ARGS...]\n");
			return 127;
		}
		const char *p = argv[++i];
		switch (o[1]) {
		case 'i': ns[0].path = p; break;
		case 'n': ns[1].path = p; break;
		case 'p': ns[2].path = p; break;
		case 'm': ns[3].path = p; break;
		default: fprintf(stderr, "nsexec: unknown option %s\n", o); return 127;
		}
	}
	if (i + 1 >= argc) {
		fprintf(stderr, "nsexec: no command after --\n");
		return 127;
	}
	char **cmd = &argv[i + 1];
	int exe = -1;
	if (local && (exe = open_cmd(cmd[0])) < 0)
		return die("open", cmd[0]);
	for (int k = 0; k < 4; k++)
		if (ns[k].path && (ns[k].fd = open(ns[k].path, O_RDONLY | O_CLOEXEC)) < 0)
			return die("open", ns[k].path);
	for (int k = 0; k < 4; k++)
		if (ns[k].path && setns(ns[k].fd, ns[k].flag) < 0)
			return die("setns", ns[k].path);
	if (ns[2].path) {
		pid_t pid = fork();
		if (pid < 0) return die("fork", NULL);
		if (pid > 0) {
			int st;
			while (waitpid(pid, &st, 0) < 0)
				if (errno != EINTR) return die("wait", NULL);
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
	}
	if (exe >= 0)
		fexecve(exe, cmd, environ);
	else
		execvp(cmd[0], cmd);
	return die("exec", cmd[0]);
}
