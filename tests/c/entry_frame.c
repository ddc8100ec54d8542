/* grt-test: exit=0 stdout="PASS"
 *
 * A new context's first frame: 16-byte aligned, its saved frame pointer is 0 (the chain
 * ends cleanly) and its return address is in grt_context_entry. A frame-pointer walk from a
 * nested call finds exactly the nested frames plus the entry function, all inside the stack.
 */
#include "check.h"

extern void grt_context_entry(void);

static grt_context main_ctx, co;
static grt_stack stk;
static int depth_seen;

static __attribute__((noinline)) int walk_from_here(void) {
    void **fp = __builtin_frame_address(0);
    int frames = 0;
    while (fp) {
        CHECK((char *)fp >= (char *)stk.lo && (char *)fp < (char *)stk.hi);
        CHECK(((unsigned long)fp & 7) == 0);
        void **next = (void **)fp[0];
        CHECK(next == 0 || next > fp); /* strictly increasing */
        frames++;
        fp = next;
    }
    return frames;
}

static __attribute__((noinline)) int nest(int n) {
    int r = n == 0 ? walk_from_here() : nest(n - 1);
    __asm__ volatile("" ::: "memory"); /* no tail call */
    return r;
}

static void entry(void *arg) {
    (void)arg;
    void **fp = __builtin_frame_address(0);
    CHECK_EQ((unsigned long)fp % 16, 0);
    CHECK(fp[0] == 0);
    unsigned long ret = (unsigned long)fp[1], start = (unsigned long)grt_context_entry;
    CHECK(ret > start && ret < start + 64);
    /* entry + nest(0..5) + walk_from_here */
    depth_seen = nest(5);
    grt_context_switch(&co, &main_ctx);
}

int main(void) {
    CHECK_EQ(grt_stack_alloc(&stk, 0), GRT_OK);
    CHECK_EQ(grt_context_make(&co, &stk, entry, 0, NULL), GRT_OK);
    /* The parked sp is the switch's business (8 mod 16 on x86_64: a core frame of three
       words below an aligned call); it lies just below the top of the stack. */
    CHECK((char *)co.sp >= (char *)stk.lo && (char *)co.sp < (char *)stk.hi);
    CHECK((char *)stk.hi - (char *)co.sp <= 128);
    grt_context_switch(&main_ctx, &co);
    CHECK_EQ(depth_seen, 1 + 6 + 1);
    t_puts(1, "ok entry frame ends the chain, aligned\n");
    t_puts(1, "PASS\n");
    return 0;
}
