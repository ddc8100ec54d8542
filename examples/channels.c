/* grt-test: exit=0 stdout="unbuffered: received 1 4 9 16 25" stdout="unbuffered: the producer closed the channel" stdout="buffered: 3 values waiting, len 3, no receiver needed" stdout="buffered: received 10 20 30, then GRT_ECLOSED" stdout="send after close: GRT_ECLOSED"
 *
 * Channels: an unbuffered channel hands each value straight from a producer goroutine to
 * the main goroutine, which reads until the producer closes it (Go's `for v := range ch`);
 * a buffered channel holds values with nobody receiving yet; after close the buffered values
 * are still delivered, then receives and sends report GRT_ECLOSED.
 */
#include <grt.h>
#include <stdio.h>

static void producer(void *arg) {
    grt_chan *ch = arg;
    for (int i = 1; i <= 5; i++) {
        int v = i * i;
        grt_chan_send(ch, &v); /* waits until main takes it */
    }
    grt_chan_close(ch);
}

static void main_goroutine(void *arg) {
    (void)arg;
    grt_chan *ch;
    if (grt_chan_make(&ch, sizeof(int), 0) != GRT_OK) return;
    grt_go(producer, ch);
    printf("unbuffered: received");
    int v;
    while (grt_chan_recv(ch, &v) == GRT_OK) /* "range" over the channel */
        printf(" %d", v);
    printf("\nunbuffered: the producer closed the channel\n");

    grt_chan *box;
    if (grt_chan_make(&box, sizeof(int), 3) != GRT_OK) return;
    for (int i = 1; i <= 3; i++) {
        v = i * 10;
        grt_chan_send(box, &v); /* room in the buffer: returns at once */
    }
    printf("buffered: 3 values waiting, len %zu, no receiver needed\n", grt_chan_len(box));
    grt_chan_close(box);
    printf("buffered: received");
    int rc;
    while ((rc = grt_chan_recv(box, &v)) == GRT_OK) printf(" %d", v);
    printf(", then %s\n", rc == GRT_ECLOSED ? "GRT_ECLOSED" : grt_strerror(rc));
    v = 40;
    rc = grt_chan_send(box, &v);
    printf("send after close: %s\n", rc == GRT_ECLOSED ? "GRT_ECLOSED" : grt_strerror(rc));
    grt_chan_free(box);
    /* ch is not freed: the producer may still be returning from grt_chan_close. */
}

int main(void) {
    return grt_main(main_goroutine, NULL) == GRT_OK ? 0 : 1;
}
