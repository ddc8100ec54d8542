/* grt-test: signal=6 stderr="fatal error: context entry function returned" stderr="stack:"
 *
 * A context whose entry function returns with no link to go to is a fatal error.
 */
#include "check.h"

static grt_context main_ctx, co;
static void entry(void *arg) { (void)arg; }

int main(void) {
    grt_stack s;
    CHECK_EQ(grt_stack_alloc(&s, 0), GRT_OK);
    CHECK_EQ(grt_context_make(&co, &s, entry, 0, NULL), GRT_OK);
    grt_context_switch(&main_ctx, &co);
    t_puts(1, "not reached\n");
    return 0;
}
