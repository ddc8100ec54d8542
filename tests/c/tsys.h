/*
 * Raw system calls for the descriptor tests (net_*.c), so the same source builds with libc
 * and freestanding (no libc). Each returns the kernel's result: >= 0, or -errno.
 */
#ifndef GRT_TEST_TSYS_H
#define GRT_TEST_TSYS_H

#include <stdint.h>

static inline long t_sys6(long n, long a, long b, long c, long d, long e, long f) {
#if defined(__x86_64__)
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
#elif defined(__aarch64__)
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc 0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory");
    return x0;
#else
#error "x86_64 or aarch64"
#endif
}

#if defined(__x86_64__)
enum {
    T_NR_read = 0, T_NR_write = 1, T_NR_close = 3, T_NR_socket = 41, T_NR_connect = 42,
    T_NR_shutdown = 48, T_NR_bind = 49, T_NR_listen = 50, T_NR_getsockname = 51,
    T_NR_socketpair = 53, T_NR_setsockopt = 54, T_NR_getdents64 = 217, T_NR_openat = 257,
    T_NR_pipe2 = 293, T_NR_prlimit64 = 302, T_NR_rt_sigaction = 13, T_NR_dup3 = 292,
    T_NR_mmap = 9, T_NR_memfd_create = 319, T_NR_ftruncate = 77, T_NR_ioctl = 16,
    T_NR_userfaultfd = 323,
};
#else
enum {
    T_NR_read = 63, T_NR_write = 64, T_NR_close = 57, T_NR_socket = 198, T_NR_connect = 203,
    T_NR_shutdown = 210, T_NR_bind = 200, T_NR_listen = 201, T_NR_getsockname = 204,
    T_NR_socketpair = 199, T_NR_setsockopt = 208, T_NR_getdents64 = 61, T_NR_openat = 56,
    T_NR_pipe2 = 59, T_NR_prlimit64 = 261, T_NR_rt_sigaction = 134, T_NR_dup3 = 24,
    T_NR_mmap = 222, T_NR_memfd_create = 279, T_NR_ftruncate = 46, T_NR_ioctl = 29,
    T_NR_userfaultfd = 282,
};
#endif

#define T_PROT_READ 1
#define T_PROT_WRITE 2
#define T_MAP_SHARED 0x01
#define T_MAP_PRIVATE 0x02
#define T_MAP_FIXED 0x10
#define T_MAP_ANONYMOUS 0x20

/* Fresh zeroed memory of `bytes` from the kernel (at `at`, replacing what was mapped there,
 * unless it is 0), or 0. */
static inline void *t_mmap_anon(void *at, unsigned long bytes) {
    long p = t_sys6(T_NR_mmap, (long)at, (long)bytes, T_PROT_READ | T_PROT_WRITE,
                    T_MAP_PRIVATE | T_MAP_ANONYMOUS | (at ? T_MAP_FIXED : 0), -1, 0);
    return p < 0 && p > -4096 ? (void *)0 : (void *)p;
}

/* Whether this kernel offers what grt's write tracking needs (gc/dirtyroots.rs): a userfaultfd
 * (user-mode faults only) with asynchronous write protection of populated and unpopulated
 * pages (Linux 6.7, arm64 6.10; qemu-user has no userfaultfd). */
static inline int t_kernel_tracks_writes(void) {
    const uint64_t want = (1u << 15) /* UFFD_FEATURE_WP_ASYNC */ |
                          (1u << 13) /* UFFD_FEATURE_WP_UNPOPULATED */;
    long fd = t_sys6(T_NR_userfaultfd, 02000000 /* O_CLOEXEC */ | 04000 /* O_NONBLOCK */ |
                                           1 /* UFFD_USER_MODE_ONLY */,
                     0, 0, 0, 0, 0);
    if (fd < 0) return 0;
    struct {
        uint64_t api, features, ioctls;
    } api = {0xAA /* UFFD_API */, want, 0};
    long r = t_sys6(T_NR_ioctl, fd, (long)0xC018AA3Fu /* UFFDIO_API */, (long)&api, 0, 0, 0);
    t_sys6(T_NR_close, fd, 0, 0, 0, 0, 0);
    return r == 0 && (api.features & want) == want;
}

/* `bytes` of shared memory (a memfd), mapped twice: returns one mapping and puts the other in
 * *alias (the same pages), or 0. */
static inline void *t_mmap_shared_twice(unsigned long bytes, void **alias) {
    long fd = t_sys6(T_NR_memfd_create, (long)"grt-test", 0, 0, 0, 0, 0);
    if (fd < 0) return (void *)0;
    void *m[2] = {0, 0};
    if (t_sys6(T_NR_ftruncate, fd, (long)bytes, 0, 0, 0, 0) == 0) {
        for (int i = 0; i < 2; i++) {
            long p = t_sys6(T_NR_mmap, 0, (long)bytes, T_PROT_READ | T_PROT_WRITE, T_MAP_SHARED,
                            fd, 0);
            m[i] = p < 0 && p > -4096 ? (void *)0 : (void *)p;
        }
    }
    t_sys6(T_NR_close, fd, 0, 0, 0, 0, 0);
    if (!m[0] || !m[1]) return (void *)0;
    *alias = m[1];
    return m[0];
}

#define T_AF_UNIX 1
#define T_AF_INET 2
#define T_SOCK_STREAM 1
#define T_SOCK_CLOEXEC 02000000
#define T_SOCK_NONBLOCK 04000
#define T_SOL_SOCKET 1
#define T_SO_REUSEADDR 2
#define T_SO_LINGER 13
#define T_EPIPE 32
#define T_ECONNRESET 104
#define T_ECONNREFUSED 111

static inline long t_read(int fd, void *b, long n) { return t_sys6(T_NR_read, fd, (long)b, n, 0, 0, 0); }
static inline long t_write(int fd, const void *b, long n) { return t_sys6(T_NR_write, fd, (long)b, n, 0, 0, 0); }
static inline long t_close(int fd) { return t_sys6(T_NR_close, fd, 0, 0, 0, 0, 0); }
static inline long t_pipe(int fds[2]) { return t_sys6(T_NR_pipe2, (long)fds, T_SOCK_CLOEXEC, 0, 0, 0, 0); }
static inline long t_socketpair(int fds[2]) {
    return t_sys6(T_NR_socketpair, T_AF_UNIX, T_SOCK_STREAM | T_SOCK_CLOEXEC, 0, (long)fds, 0, 0);
}
/* A socket pair made non-blocking at once (what grt does on a descriptor's first use). */
static inline long t_socketpair_nb(int fds[2]) {
    return t_sys6(T_NR_socketpair, T_AF_UNIX, T_SOCK_STREAM | T_SOCK_CLOEXEC | T_SOCK_NONBLOCK, 0,
                  (long)fds, 0, 0);
}
static inline long t_shutdown(int fd, int how) { return t_sys6(T_NR_shutdown, fd, how, 0, 0, 0, 0); }

/* struct sockaddr_in, without libc's headers. */
struct t_sockaddr_in {
    uint16_t family;
    uint16_t port; /* network order */
    uint32_t addr; /* network order */
    uint8_t zero[8];
};

static inline uint16_t t_htons(uint16_t v) { return (uint16_t)((v << 8) | (v >> 8)); }
#define T_LOOPBACK 0x0100007fu /* 127.0.0.1 in network order (little-endian hosts) */

/* A TCP socket listening on 127.0.0.1 at a port the kernel picks; *port gets it (host order). */
static inline int t_listen_tcp(uint16_t *port) {
    int fd = (int)t_sys6(T_NR_socket, T_AF_INET, T_SOCK_STREAM | T_SOCK_CLOEXEC, 0, 0, 0, 0);
    if (fd < 0) return fd;
    int one = 1;
    t_sys6(T_NR_setsockopt, fd, T_SOL_SOCKET, T_SO_REUSEADDR, (long)&one, sizeof one, 0);
    struct t_sockaddr_in a = {T_AF_INET, 0, T_LOOPBACK, {0}};
    if (t_sys6(T_NR_bind, fd, (long)&a, sizeof a, 0, 0, 0) < 0) return -1;
    if (t_sys6(T_NR_listen, fd, 1024, 0, 0, 0, 0) < 0) return -1;
    uint32_t len = sizeof a;
    t_sys6(T_NR_getsockname, fd, (long)&a, (long)&len, 0, 0, 0);
    *port = t_htons(a.port);
    return fd;
}

static inline int t_socket_tcp(void) {
    return (int)t_sys6(T_NR_socket, T_AF_INET, T_SOCK_STREAM | T_SOCK_CLOEXEC, 0, 0, 0, 0);
}

static inline struct t_sockaddr_in t_loopback(uint16_t port) {
    struct t_sockaddr_in a = {T_AF_INET, t_htons(port), T_LOOPBACK, {0}};
    return a;
}

/* Raises the descriptor limit to `want` (root may raise the hard limit), else the soft limit
 * to the hard one; returns the new soft limit. */
static inline uint64_t t_raise_nofile(uint64_t want) {
    uint64_t lim[2];
    if (t_sys6(T_NR_prlimit64, 0, 7 /* RLIMIT_NOFILE */, 0, (long)lim, 0, 0) < 0) return 0;
    if (lim[0] >= want) return lim[0];
    uint64_t both[2] = {want, want > lim[1] ? want : lim[1]};
    if (t_sys6(T_NR_prlimit64, 0, 7, (long)both, 0, 0, 0) == 0) return want;
    lim[0] = lim[1];
    t_sys6(T_NR_prlimit64, 0, 7, (long)lim, 0, 0, 0);
    t_sys6(T_NR_prlimit64, 0, 7, 0, (long)lim, 0, 0);
    return lim[0];
}

/* Threads of this process (entries of /proc/self/task). */
static inline int t_count_threads(void) {
    /* O_RDONLY: O_DIRECTORY's value differs between the two architectures. */
    int fd = (int)t_sys6(T_NR_openat, -100, (long)"/proc/self/task", 0, 0, 0, 0);
    if (fd < 0) return -1;
    char buf[4096];
    int n = 0;
    for (;;) {
        long r = t_sys6(T_NR_getdents64, fd, (long)buf, sizeof buf, 0, 0, 0);
        if (r <= 0) break;
        for (long off = 0; off < r;) {
            unsigned short reclen = *(unsigned short *)(buf + off + 16);
            const char *name = buf + off + 19;
            if (name[0] != '.') n++;
            off += reclen;
        }
    }
    t_close(fd);
    return n;
}

/* SIGPIPE ignored (a pipe whose reader has gone then gives EPIPE). */
static inline void t_ignore_sigpipe(void) {
    struct {
        long handler;
        unsigned long flags;
        long restorer;
        uint64_t mask;
    } sa = {1 /* SIG_IGN */, 0, 0, 0};
    t_sys6(T_NR_rt_sigaction, 13, (long)&sa, 0, 8, 0, 0);
}

#endif
