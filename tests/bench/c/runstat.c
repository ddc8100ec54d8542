/*
 * runstat PROGRAM [ARGS...] (or, with no arguments, the program RUNSTAT_PROG names): runs it (its output to /dev/null), waits for it and
 * prints one line, `runstat ms=<wall time> maxrss_kb=<peak resident set> status=<exit code,
 * or 128+signal> check=ok|fail`, for `cargo xtask bench gc`'s runs of programs that do not report on
 * themselves (bdwgc's tests). The peak resident set is the kernel's (wait4's ru_maxrss).
 *
 * RUNSTAT_PAUSES=grt or bdwgc adds `pause_max_us=<longest stop-the-world pause>`: the child
 * runs with the collector's own per-cycle report on (grt: GRTDEBUG=gctrace=1, each line's
 * "pauses A + B us"; bdwgc: GC_PRINT_STATS=1, each "World-stopped marking took M ms N ns"),
 * read from its stderr. Those reports cost time of their own: such a run is for the pauses,
 * not for the wall time.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The pause a report line gives, in µs, or -1. */
static double line_pause_us(const char *line, int grt) {
    if (grt) {
        const char *p = strstr(line, "pauses ");
        double a, b;
        if (strncmp(line, "gc ", 3) != 0 || !p || sscanf(p, "pauses %lf + %lf us", &a, &b) != 2) return -1;
        /* The registered threads' stop while the cycle marks is a pause for them too. */
        const char *t = strstr(line, "threads stopped ");
        double c = 0;
        if (t) sscanf(t, "threads stopped %lf us", &c);
        if (c > a) a = c;
        return a > b ? a : b;
    }
    const char *p = strstr(line, "World-stopped marking took ");
    unsigned long ms, ns;
    if (!p || sscanf(p, "World-stopped marking took %lu ms %lu ns", &ms, &ns) != 2) return -1;
    return (double)ms * 1e3 + (double)ns / 1e3;
}

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
    const char *pauses = getenv("RUNSTAT_PAUSES");
    int want = pauses != NULL, grt = pauses && strcmp(pauses, "grt") == 0;
    if (want && !grt && strcmp(pauses, "bdwgc") != 0) {
        fprintf(stderr, "runstat: RUNSTAT_PAUSES is grt or bdwgc\n");
        return 2;
    }
    int fds[2] = {-1, -1};
    if (want && pipe(fds) != 0) {
        perror("runstat: pipe");
        return 2;
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
        if (want) {
            dup2(fds[1], 2);
            close(fds[0]);
            close(fds[1]);
            if (grt)
                setenv("GRTDEBUG", "gctrace=1", 1);
            else
                setenv("GC_PRINT_STATS", "1", 1);
        }
        execv(prog[0], prog);
        perror("runstat: exec");
        _exit(127);
    }
    double pause_max = 0;
    if (want) {
        close(fds[1]);
        FILE *f = fdopen(fds[0], "r");
        char line[1024];
        while (f && fgets(line, sizeof line, f)) {
            double p = line_pause_us(line, grt);
            if (p > pause_max) pause_max = p;
        }
        if (f) fclose(f);
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
    printf("runstat ms=%.1f maxrss_kb=%ld status=%d check=%s", ms, ru.ru_maxrss, code,
           code == 0 ? "ok" : "fail");
    if (want) printf(" pause_max_us=%.1f", pause_max);
    printf("\n");
    return 0;
}
