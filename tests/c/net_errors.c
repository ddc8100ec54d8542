/* grt-test: exit=0 stdout="ok eof" stdout="ok epipe" stdout="ok econnreset" stdout="ok econnrefused" stdout="ok partial writes completed" stdout="ok files fall back to blocking calls" stdout="ok bad input" stdout="PASS" stderr="grt: grt_read: bad descriptor -1" stderr="grt: grt_read: called from a thread that is not running a goroutine" env="GRTMAXPROCS=2"
 *
 * What the descriptor calls return when things go wrong, over real pipes, socket pairs and
 * TCP on 127.0.0.1:
 * - end of file: grt_read returns 0 (peer shut down its writing side, pipe writer closed);
 * - EPIPE: grt_write to a socket whose peer closed gives GRT_ESYS with grt_errno() == EPIPE
 *   (no SIGPIPE: send with MSG_NOSIGNAL), and to a pipe with SIGPIPE ignored;
 * - ECONNRESET: the server closes with SO_LINGER 0 (a reset); the client's read gets it;
 * - ECONNREFUSED: grt_connect to a port nobody listens on;
 * - a 4 MiB grt_write to a socket read slowly in small pieces comes back with 4 MiB, every
 *   byte in order (the partial writes were completed);
 * - /dev/null and a regular file (epoll refuses them) are read and written by blocking calls;
 * - bad input: bad descriptors, NULL, negative length and deadline, bad events, no
 *   goroutine (before grt_main, and on a plain thread): a GRT_E* code and a message.
 */
#include "check.h"
#include "tsys.h"

#define BIG (4 << 20)

static unsigned char big[BIG];
static int pair[2];
static grt_waitgroup wg = GRT_WAITGROUP_INIT;

static void slow_reader(void *arg) {
    (void)arg;
    static unsigned char b[1000];
    long total = 0;
    while (total < BIG) {
        long r = grt_read(pair[1], b, sizeof b, 0);
        CHECK(r > 0);
        for (long k = 0; k < r; k++) CHECK_EQ(b[k], (unsigned char)((total + k) * 7 % 251));
        total += r;
        if ((total / 1000) % 16 == 0) grt_yield();
    }
    CHECK_EQ(grt_wg_done(&wg), GRT_OK);
}

static int plain_thread_result;
static void plain_thread(void *arg) {
    (void)arg;
    char b;
    plain_thread_result = (int)grt_read(0, &b, 1, 0);
}

static void main_g(void *arg) {
    (void)arg;
    char b[64];
    int p[2], s[2];

    /* EOF */
    CHECK_EQ(t_socketpair(s), 0);
    CHECK_EQ(grt_write(s[1], "abc", 3, 0), 3);
    CHECK_EQ(t_shutdown(s[1], 1 /* SHUT_WR */), 0);
    CHECK_EQ(grt_read(s[0], b, sizeof b, 0), 3);
    CHECK_EQ(grt_read(s[0], b, sizeof b, 0), 0);
    CHECK_EQ(grt_fd_close(s[0]), GRT_OK);
    CHECK_EQ(grt_fd_close(s[1]), GRT_OK);
    CHECK_EQ(t_pipe(p), 0);
    CHECK_EQ(grt_fd_close(p[1]), GRT_OK);
    CHECK_EQ(grt_read(p[0], b, sizeof b, 0), 0);
    CHECK_EQ(grt_fd_close(p[0]), GRT_OK);
    t_puts(1, "ok eof\n");

    /* EPIPE */
    CHECK_EQ(t_socketpair(s), 0);
    CHECK_EQ(grt_fd_close(s[1]), GRT_OK);
    CHECK_EQ(grt_write(s[0], "x", 1, 0), GRT_ESYS);
    CHECK_EQ(grt_errno(), T_EPIPE);
    CHECK_EQ(grt_fd_close(s[0]), GRT_OK);
    t_ignore_sigpipe();
    CHECK_EQ(t_pipe(p), 0);
    CHECK_EQ(grt_fd_close(p[0]), GRT_OK);
    CHECK_EQ(grt_write(p[1], "x", 1, 0), GRT_ESYS);
    CHECK_EQ(grt_errno(), T_EPIPE);
    CHECK_EQ(grt_fd_close(p[1]), GRT_OK);
    t_puts(1, "ok epipe\n");

    /* ECONNRESET */
    uint16_t port;
    int l = t_listen_tcp(&port);
    CHECK(l >= 0);
    int c = t_socket_tcp();
    CHECK(c >= 0);
    struct t_sockaddr_in a = t_loopback(port);
    CHECK_EQ(grt_connect(c, (const struct sockaddr *)&a, sizeof a, 0), GRT_OK);
    int sv = grt_accept(l, 0, 0, 0);
    CHECK(sv >= 0);
    CHECK_EQ(grt_write(c, "hello", 5, 0), 5);
    CHECK_EQ(grt_read(sv, b, 5, 0), 5);
    int linger[2] = {1, 0};
    CHECK_EQ(t_sys6(T_NR_setsockopt, sv, T_SOL_SOCKET, T_SO_LINGER, (long)linger, sizeof linger, 0), 0);
    CHECK_EQ(grt_fd_close(sv), GRT_OK);
    CHECK_EQ(grt_read(c, b, sizeof b, 0), GRT_ESYS);
    CHECK_EQ(grt_errno(), T_ECONNRESET);
    CHECK_EQ(grt_fd_close(c), GRT_OK);
    t_puts(1, "ok econnreset\n");

    /* ECONNREFUSED: the port of a listener that is gone. */
    CHECK_EQ(grt_fd_close(l), GRT_OK);
    c = t_socket_tcp();
    CHECK_EQ(grt_connect(c, (const struct sockaddr *)&a, sizeof a, 0), GRT_ESYS);
    CHECK_EQ(grt_errno(), T_ECONNREFUSED);
    CHECK_EQ(grt_fd_close(c), GRT_OK);
    t_puts(1, "ok econnrefused\n");

    /* Partial writes */
    for (long i = 0; i < BIG; i++) big[i] = (unsigned char)(i * 7 % 251);
    CHECK_EQ(t_socketpair(pair), 0);
    CHECK_EQ(grt_wg_add(&wg, 1), GRT_OK);
    CHECK_EQ(grt_go(slow_reader, 0), GRT_OK);
    CHECK_EQ(grt_write(pair[0], big, BIG, 0), BIG);
    CHECK_EQ(grt_wg_wait(&wg), GRT_OK);
    CHECK_EQ(grt_fd_close(pair[0]), GRT_OK);
    CHECK_EQ(grt_fd_close(pair[1]), GRT_OK);
    t_puts(1, "ok partial writes completed\n");

    /* Descriptors epoll refuses */
    int dn = (int)t_sys6(T_NR_openat, -100, (long)"/dev/null", 2 /* O_RDWR */, 0, 0, 0);
    CHECK(dn >= 0);
    CHECK_EQ(grt_write(dn, "abc", 3, 0), 3);
    CHECK_EQ(grt_read(dn, b, sizeof b, 0), 0);
    CHECK_EQ(grt_fd_wait(dn, GRT_POLLIN, 0), GRT_OK);
    CHECK_EQ(grt_fd_close(dn), GRT_OK);
    int ex = (int)t_sys6(T_NR_openat, -100, (long)"/proc/self/exe", 0, 0, 0, 0);
    CHECK(ex >= 0);
    CHECK_EQ(grt_read(ex, b, 4, 0), 4);
    CHECK(b[0] == 0x7f && b[1] == 'E' && b[2] == 'L' && b[3] == 'F');
    CHECK_EQ(grt_fd_close(ex), GRT_OK);
    t_puts(1, "ok files fall back to blocking calls\n");

    /* Bad input */
    CHECK_EQ(t_pipe(p), 0);
    CHECK_EQ(grt_read(-1, b, 1, 0), GRT_EINVAL);
    CHECK_EQ(grt_read(1 << 22, b, 1, 0), GRT_EINVAL);
    CHECK_EQ(grt_read(p[0], 0, 5, 0), GRT_EINVAL);
    CHECK_EQ(grt_read(p[0], b, (size_t)-1, 0), GRT_EINVAL);
    CHECK_EQ(grt_read(p[0], b, 1, -5), GRT_EINVAL);
    CHECK_EQ(grt_write(p[1], 0, 5, 0), GRT_EINVAL);
    CHECK_EQ(grt_write(p[1], b, 0, 0), 0);
    CHECK_EQ(grt_fd_wait(p[0], 0, 0), GRT_EINVAL);
    CHECK_EQ(grt_fd_wait(p[0], 4, 0), GRT_EINVAL);
    CHECK_EQ(grt_accept(p[0], (struct sockaddr *)b, 0, 0), GRT_EINVAL);
    CHECK_EQ(grt_connect(p[0], 0, 16, 0), GRT_EINVAL);
    CHECK_EQ(grt_read(1000, b, 1, 0), GRT_EINVAL); /* not open */
    CHECK_EQ(grt_fd_close(1000), GRT_EINVAL);
    CHECK_EQ(grt_fd_close(-3), GRT_EINVAL);
    CHECK_EQ(grt_accept(p[0], 0, 0, 0), GRT_ESYS); /* not a socket */
    CHECK_EQ(grt_fd_close(p[0]), GRT_OK);
    CHECK_EQ(grt_fd_close(p[1]), GRT_OK);
    CHECK_EQ(grt_read(p[0], b, 1, 0), GRT_EINVAL); /* closed now */
    grt_thread *t;
    CHECK_EQ(grt_thread_start(&t, plain_thread, 0), GRT_OK);
    CHECK_EQ(grt_thread_join(t), GRT_OK);
    CHECK_EQ(plain_thread_result, GRT_ENOTG);
    t_puts(1, "ok bad input\n");
}

int main(void) {
    char b;
    CHECK_EQ(grt_read(0, &b, 1, 0), GRT_ENOTINIT);
    CHECK_EQ(grt_errno(), 0);
    CHECK_EQ(grt_main(main_g, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
