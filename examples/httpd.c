/* grt-test: exit=0 env="GRTMAXPROCS=2" stdout="httpd: 100 keep-alive connections, 100 requests each, every response checked" stdout="PASS"
 *
 * A minimal HTTP/1.1 server with a goroutine per connection on grt's network poller:
 * keep-alive, requests read until the blank line (pipelined requests are answered in
 * order), a fixed body for every request, "Connection: close" honoured. Run with no argument
 * it checks itself: 100 client goroutines each send 100 requests on one connection and check
 * every byte of every response. `httpd --serve PORT` serves on 127.0.0.1:PORT until killed
 * (`cargo xtask bench net` runs wrk against it, and against the same server in Go).
 *
 *   cc -O2 -Iinclude examples/httpd.c target/release/libgrt.a -lpthread -o httpd
 */
#define _GNU_SOURCE /* memmem */
#include <grt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define CLIENTS 100
#define REQUESTS 100
#define BUFSZ 8192

static const char RESPONSE[] = "HTTP/1.1 200 OK\r\n"
                               "Content-Type: text/plain\r\n"
                               "Content-Length: 16\r\n"
                               "\r\n"
                               "Hello from grt!\n";

static int listener;
static uint16_t port;
static grt_waitgroup clients = GRT_WAITGROUP_INIT;
static int failures;

/* Case-insensitive search for a header line "name: value" in [p, end). */
static int has_header(const char *p, const char *end, const char *line) {
    size_t n = strlen(line);
    for (; p + n <= end; p++) {
        if (p[0] != '\n') continue;
        if (strncasecmp(p + 1, line, n) == 0) return 1;
    }
    return 0;
}

static void serve_conn(void *arg) {
    int fd = (int)(intptr_t)arg;
    char buf[BUFSZ];
    size_t have = 0;
    for (;;) {
        /* Answer every complete request in the buffer. */
        char *end;
        int close_after = 0;
        while ((end = memmem(buf, have, "\r\n\r\n", 4)) != NULL) {
            end += 4;
            close_after = has_header(buf, end, "connection: close");
            if (grt_write(fd, RESPONSE, sizeof RESPONSE - 1, 0) != (long)sizeof RESPONSE - 1) {
                close_after = 1;
                break;
            }
            have -= (size_t)(end - buf);
            memmove(buf, end, have);
            if (close_after) break;
        }
        if (close_after || have == sizeof buf) break; /* asked to close, or a header too big */
        long n = grt_read(fd, buf + have, sizeof buf - have, 0);
        if (n <= 0) break;
        have += (size_t)n;
    }
    grt_fd_close(fd);
}

static void accept_loop(void *arg) {
    (void)arg;
    for (;;) {
        int fd = grt_accept(listener, NULL, NULL, 0);
        if (fd == GRT_ECLOSED) return;
        if (fd < 0) {
            fprintf(stderr, "httpd: accept: %s (errno %d)\n", grt_strerror(fd), grt_errno());
            continue; /* EMFILE and the like: keep serving the others */
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (grt_go(serve_conn, (void *)(intptr_t)fd) != GRT_OK) grt_fd_close(fd);
    }
}

static void client(void *arg) {
    unsigned id = (unsigned)(intptr_t)arg;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (grt_connect(fd, (struct sockaddr *)&a, sizeof a, 0) != GRT_OK) {
        fprintf(stderr, "httpd: client %u: connect: errno %d\n", id, grt_errno());
        exit(1);
    }
    char req[128], resp[sizeof RESPONSE];
    for (int r = 0; r < REQUESTS; r++) {
        int last = r == REQUESTS - 1;
        int n = snprintf(req, sizeof req, "GET /%u/%d HTTP/1.1\r\nHost: x\r\n%s\r\n", id, r,
                         last ? "Connection: close\r\n" : "");
        if (grt_write(fd, req, (size_t)n, 0) != n) {
            fprintf(stderr, "httpd: client %u: write failed\n", id);
            exit(1);
        }
        size_t got = 0;
        while (got < sizeof RESPONSE - 1) {
            long k = grt_read(fd, resp + got, sizeof RESPONSE - 1 - got, 0);
            if (k <= 0) {
                fprintf(stderr, "httpd: client %u request %d: read %ld\n", id, r, k);
                exit(1);
            }
            got += (size_t)k;
        }
        if (memcmp(resp, RESPONSE, sizeof RESPONSE - 1) != 0) {
            fprintf(stderr, "httpd: client %u request %d: wrong response\n", id, r);
            __atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
        }
    }
    /* After "Connection: close" the server closes: end of file. */
    char extra;
    if (grt_read(fd, &extra, 1, (int64_t)grt_nanotime() + 5000000000LL) != 0) {
        fprintf(stderr, "httpd: client %u: the server did not close\n", id);
        __atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
    }
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
    if (bind(listener, (struct sockaddr *)&a, sizeof a) != 0 || listen(listener, 4096) != 0) {
        perror("httpd: bind/listen");
        exit(1);
    }
    socklen_t len = sizeof a;
    getsockname(listener, (struct sockaddr *)&a, &len);
    port = ntohs(a.sin_port);
    if (serve_only) {
        printf("httpd: serving on 127.0.0.1:%u\n", port);
        fflush(stdout);
        accept_loop(NULL);
        return;
    }
    grt_go(accept_loop, NULL);
    grt_wg_add(&clients, CLIENTS);
    for (int i = 0; i < CLIENTS; i++) grt_go(client, (void *)(intptr_t)i);
    grt_wg_wait(&clients);
    grt_fd_close(listener);
    if (failures) exit(1);
    printf("httpd: %d keep-alive connections, %d requests each, every response checked\n",
           CLIENTS, REQUESTS);
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
