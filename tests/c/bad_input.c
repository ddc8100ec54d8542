/* grt-test: exit=0 stdout="PASS" stderr="grt: grt_stack_alloc: size 100 is below the minimum" stderr="grt: grt_context_make: fn is NULL" stderr="grt: grt_stack_free: not a stack from grt_stack_alloc"
 *
 * Bad input gets an error code and a message on stderr, never a crash.
 */
#include "check.h"

static void f(void *arg) { (void)arg; }

int main(void) {
    grt_stack s, fake;
    grt_context c;
    CHECK_EQ(grt_stack_alloc(0, 0), GRT_EINVAL);
    CHECK_EQ(grt_stack_alloc(&s, 100), GRT_EINVAL);
    CHECK_EQ(grt_stack_alloc(&s, (size_t)-4096), GRT_EINVAL); /* a negative size */
    CHECK_EQ(grt_stack_alloc(&s, 0), GRT_OK);

    CHECK_EQ(grt_context_make(0, &s, f, 0, 0), GRT_EINVAL);
    CHECK_EQ(grt_context_make(&c, 0, f, 0, 0), GRT_EINVAL);
    CHECK_EQ(grt_context_make(&c, &s, 0, 0, 0), GRT_EINVAL);
    fake = s;
    fake.id ^= 1;
    CHECK_EQ(grt_context_make(&c, &fake, f, 0, 0), GRT_EINVAL);
    fake = s;
    fake.hi = (char *)fake.hi + 4096;
    CHECK_EQ(grt_context_make(&c, &fake, f, 0, 0), GRT_EINVAL);
    CHECK_EQ(grt_stack_free(&fake), GRT_EINVAL);
    CHECK_EQ(grt_stack_free(0), GRT_EINVAL);

    grt_stack copy = s;
    CHECK_EQ(grt_stack_free(&s), GRT_OK);
    CHECK_EQ(grt_stack_free(&copy), GRT_EINVAL); /* double free */
    CHECK_EQ(grt_context_make(&c, &copy, f, 0, 0), GRT_EINVAL); /* use after free */

    grt_thread *t;
    CHECK_EQ(grt_thread_start(0, f, 0), GRT_EINVAL);
    CHECK_EQ(grt_thread_start(&t, 0, 0), GRT_EINVAL);
    CHECK_EQ(grt_thread_join(0), GRT_EINVAL);
    CHECK_EQ(grt_sys_write(1, 0, 5), GRT_EINVAL);
    CHECK(grt_strerror(GRT_EINVAL)[0] == 'i');
    t_puts(1, "PASS\n");
    return 0;
}
