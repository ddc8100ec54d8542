/*
 * Tiny test helpers for grt's C tests. They use only grt_sys_write/grt_exit, so the same test
 * source builds as an ordinary C program (libc) and as a freestanding binary (no libc).
 * A test prints "ok <name>" lines and ends with "PASS"; a failed check prints the file, line
 * and expression and exits with status 1.
 */
#ifndef GRT_TEST_CHECK_H
#define GRT_TEST_CHECK_H

#include <grt.h>
#include <stdint.h>

static inline size_t t_strlen(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

static inline void t_puts(int fd, const char *s) { grt_sys_write(fd, s, t_strlen(s)); }

static inline void t_putu(int fd, unsigned long long v, int base) {
    char buf[32];
    int i = 31;
    buf[i] = 0;
    do {
        buf[--i] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v && i > 0);
    t_puts(fd, buf + i);
}

/* " key=value" on stdout (a test's record line). */
static inline void t_put_kv(const char *k, uint64_t v) {
    t_puts(1, " ");
    t_puts(1, k);
    t_puts(1, "=");
    t_putu(1, v, 10);
}

/* The decimal value of NAME in main's envp (works without libc), or dflt when it is unset,
 * empty or not a number. */
static inline uint64_t t_env_u64(char **envp, const char *name, uint64_t dflt) {
    size_t n = t_strlen(name);
    for (; envp && *envp; envp++) {
        const char *e = *envp;
        size_t i = 0;
        while (i < n && e[i] == name[i]) i++;
        if (i < n || e[n] != '=') continue;
        uint64_t v = 0;
        const char *d = e + n + 1;
        if (!*d) return dflt;
        for (; *d; d++) {
            if (*d < '0' || *d > '9') return dflt;
            v = v * 10 + (uint64_t)(*d - '0');
        }
        return v;
    }
    return dflt;
}

#define T_STR2(x) #x
#define T_STR(x) T_STR2(x)

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            t_puts(2, __FILE__ ":" T_STR(__LINE__) ": check failed: " #cond "\n");   \
            grt_exit(1);                                                             \
        }                                                                            \
    } while (0)

#define CHECK_EQ(a, b)                                                               \
    do {                                                                             \
        unsigned long long _a = (unsigned long long)(a), _b = (unsigned long long)(b); \
        if (_a != _b) {                                                              \
            t_puts(2, __FILE__ ":" T_STR(__LINE__) ": " #a " != " #b ": 0x");        \
            t_putu(2, _a, 16);                                                       \
            t_puts(2, " != 0x");                                                     \
            t_putu(2, _b, 16);                                                       \
            t_puts(2, "\n");                                                         \
            grt_exit(1);                                                             \
        }                                                                            \
    } while (0)

#endif
