/* grt-test: exit=0 stdout="PASS"
 *
 * Every callee-saved register survives a switch away and back, while the other context
 * sets all of them (and the FP control state) to different values:
 *   x86_64: rbx rbp r12 r13 r14 r15, rsp, MXCSR control bits, x87 control word
 *   aarch64: x19..x28, x29, sp, d8..d15
 * regs_switch_check / regs_clobber_switch are in regs_<arch>.S: they load the values and
 * call grt_context_switch from assembly, so no compiler can save the registers for us.
 */
#include "check.h"

#if defined(__x86_64__)
#define NREGS 8
static const char *names[] = {"rbx", "rbp", "r12", "r13", "r14", "r15", "mxcsr", "x87cw", "rsp"};
#elif defined(__aarch64__)
#define NREGS 19
static const char *names[] = {"x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28",
                              "x29", "d8",  "d9",  "d10", "d11", "d12", "d13", "d14", "d15", "sp"};
#endif

/* Returns a bit mask of the registers (in `names` order) that did not come back intact. */
unsigned long regs_switch_check(grt_context *from, const grt_context *to, const unsigned long *values);
/* Sets every callee-saved register from `seed`, then switches. */
void regs_clobber_switch(grt_context *from, const grt_context *to, unsigned long seed);

static grt_context main_ctx, other;

static void other_body(void *arg) {
    (void)arg;
    for (unsigned long i = 1;; i++) regs_clobber_switch(&other, &main_ctx, i * 0x9e3779b97f4a7c15UL);
}

int main(void) {
    grt_stack s;
    CHECK_EQ(grt_stack_alloc(&s, 0), GRT_OK);
    CHECK_EQ(grt_context_make(&other, &s, other_body, 0, NULL), GRT_OK);
    unsigned long values[NREGS];
    unsigned long x = 0x0123456789abcdefUL;
    for (int round = 0; round < 10000; round++) {
        for (int i = 0; i < NREGS; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            values[i] = x;
        }
#if defined(__x86_64__)
        /* Valid control settings: round-toward-zero or -up, masks on, FZ/DAZ alternating;
           x87: truncating rounding, 64- or 53-bit precision. */
        values[6] = (round & 1) ? 0x7f80 : 0xdfc0;
        values[7] = (round & 1) ? 0x0f7f : 0x0e7f;
#endif
        unsigned long bad = regs_switch_check(&main_ctx, &other, values);
        if (bad) {
            t_puts(2, "registers not preserved by grt_context_switch:");
            for (int i = 0; i <= NREGS; i++)
                if (bad & (1UL << i)) t_puts(2, " "), t_puts(2, names[i]);
            t_puts(2, "\n");
            grt_exit(1);
        }
    }
    t_puts(1, "ok callee-saved registers survive 10000 switches\n");
    t_puts(1, "PASS\n");
    return 0;
}
