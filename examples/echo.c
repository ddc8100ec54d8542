/* grt-test: exit=0 env="GRTMAXPROCS=2" stdout="echo: 64 clients, 200 messages each, every byte checked" stdout="PASS"
 *
 * A TCP echo server with a goroutine per connection, on grt's network poller: grt_accept,
 * grt_read and grt_write park the goroutine, never the thread, so a few OS threads serve any
 * number of connections. Run with no argument it checks itself: 64 client goroutines
 * connect, each sends 200 messages of different sizes (up to 64 KiB) and checks every byte
 * that comes back. `echo --serve PORT` serves on 127.0.0.1:PORT until killed.
 *
 *   cc -O2 -Iinclude examples/echo.c target/release/libgrt.a -lpthread -o echo
 */
#include <grt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define CLIENTS 64
#define MESSAGES 200
#define MAXMSG (64 * 1024)

static int listener;
static uint16_t port;
static grt_waitgroup clients = GRT_WAITGROUP_INIT;
static int failures;

static void die(const char *what, long code) {
    fprintf(stderr, "echo: %s: %s (errno %d)\n", what, grt_strerror((int)code), grt_errno());
    exit(1);
}

/* One connection: echo until the client closes. */
static void serve_conn(void *arg) {
    int fd = (int)(intptr_t)arg;
    char *buf = malloc(MAXMSG);
    for (;;) {
        long n = grt_read(fd, buf, MAXMSG, 0);
        if (n <= 0) break; /* 0: the client closed; < 0: an error (reset) */
        if (grt_write(fd, buf, (size_t)n, 0) != n) break;
    }
    free(buf);
    grt_fd_close(fd);
}

static void accept_loop(void *arg) {
    (void)arg;
    for (;;) {
        int fd = grt_accept(listener, NULL, NULL, 0);
        if (fd == GRT_ECLOSED) return; /* the listener was closed: stop */
        if (fd < 0) die("accept", fd);
        if (grt_go(serve_conn, (void *)(intptr_t)fd) != GRT_OK) die("grt_go", GRT_ENOMEM);
    }
}

static void fill(unsigned char *b, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) b[i] = (unsigned char)(seed * 131 + i * 7 + (i >> 8));
}

static void client(void *arg) {
    unsigned id = (unsigned)(intptr_t)arg;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    long r = grt_connect(fd, (struct sockaddr *)&a, sizeof a, 0);
    if (r != GRT_OK) die("connect", r);
    unsigned char *out = malloc(MAXMSG), *in = malloc(MAXMSG);
    for (unsigned m = 0; m < MESSAGES; m++) {
        size_t len = 1 + (size_t)((id * 7919u + m * 104729u) % MAXMSG);
        fill(out, len, id * MESSAGES + m);
        /* Write 8 KiB, read what came back, and so on: written whole before reading, a
         * message larger than the socket buffers would fill them both ways and stall. */
        size_t sent = 0, got = 0;
        while (got < len) {
            if (sent < len) {
                size_t chunk = len - sent < 8192 ? len - sent : 8192;
                r = grt_write(fd, out + sent, chunk, 0);
                if (r != (long)chunk) die("client write", r);
                sent += chunk;
            }
            r = grt_read(fd, in + got, len - got, 0);
            if (r <= 0) die("client read", r);
            got += (size_t)r;
        }
        if (memcmp(in, out, len) != 0) {
            fprintf(stderr, "echo: client %u message %u: wrong bytes back\n", id, m);
            __atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
        }
    }
    free(out);
    free(in);
    grt_fd_close(fd);
    grt_wg_done(&clients);
}

static int serve_only;

static void main_g(void *arg) {
    (void)arg;
    listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(listener, (struct sockaddr *)&a, sizeof a) != 0 || listen(listener, 1024) != 0) {
        perror("echo: bind/listen");
        exit(1);
    }
    socklen_t len = sizeof a;
    getsockname(listener, (struct sockaddr *)&a, &len);
    port = ntohs(a.sin_port);
    if (serve_only) {
        printf("echo: serving on 127.0.0.1:%u\n", port);
        fflush(stdout);
        accept_loop(NULL);
        return;
    }
    grt_go(accept_loop, NULL);
    grt_wg_add(&clients, CLIENTS);
    for (int i = 0; i < CLIENTS; i++) grt_go(client, (void *)(intptr_t)i);
    grt_wg_wait(&clients);
    grt_fd_close(listener); /* the accept loop returns GRT_ECLOSED */
    if (failures) exit(1);
    printf("echo: %d clients, %d messages each, every byte checked\n", CLIENTS, MESSAGES);
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--serve") == 0) {
        serve_only = 1;
        port = (uint16_t)atoi(argv[2]);
    }
    if (grt_main(main_g, NULL) != GRT_OK) return 1;
    printf("PASS\n");
    return 0;
}
