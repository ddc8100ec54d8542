/*
 * runstat PROGRAM [ARGS...] (or, with no arguments, the program RUNSTAT_PROG names): runs it (its output to /dev/null), waits for it and
 * prints one line, `runstat ms=<wall time> maxrss_kb=<peak resident set> status=<exit code,
 * or 128+signal> check=ok|fail`, for `cargo xtask bench gc`'s runs of programs that do not report on
 * themselves (bdwgc's tests). The peak resident set is the kernel's (wait4's ru_maxrss).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    char *env_argv[2] = {getenv("RUNSTAT_PROG"), NULL};
    char **prog = argv + 1;
    if (argc < 2) {
        if (env_argv[0] == NULL) {
            fprintf(stderr, "usage: runstat PROGRAM [ARGS...]   (or RUNSTAT_PROG=PROGRAM runstat)\n");
            return 2;
        }
        prog = env_argv;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) {
        perror("runstat: fork");
        return 2;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, 1);
        execv(prog[0], prog);
        perror("runstat: exec");
        _exit(127);
    }
    int st;
    struct rusage ru;
    if (wait4(pid, &st, 0, &ru) < 0) {
        perror("runstat: wait4");
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    printf("runstat ms=%.1f maxrss_kb=%ld status=%d check=%s\n", ms, ru.ru_maxrss, code,
           code == 0 ? "ok" : "fail");
    return 0;
}
