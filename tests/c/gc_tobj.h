/*
 * Tracked heap objects for the write-barrier tests (gc_wb_race.c, gc_chan_wb.c). Each one
 * holds its own address, a unique serial and a pattern made from the serial; the holder keeps
 * the serial elsewhere (not in a pointer), so an object that was wrongly freed and handed out
 * again is caught the next time the holder checks it.
 */
#ifndef GRT_TEST_GC_TOBJ_H
#define GRT_TEST_GC_TOBJ_H

#include "check.h"

struct tobj {
    uintptr_t self;
    uint64_t serial;
    uint64_t pat;
    uint64_t pad[3];
};

static uint64_t tobj_next_serial;

static inline uint64_t tobj_pat(uint64_t s) {
    return (s * 0x9e3779b97f4a7c15ull) | 0x8000000000000001ull; /* not a heap address */
}

/* xorshift64 over *state. */
static inline uint64_t tobj_rnd(uint64_t *state) {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* A new tracked object (grt_alloc'd, so it comes zeroed: checked). */
static __attribute__((noinline, noipa)) struct tobj *tobj_new(void) {
    uint64_t s = __atomic_add_fetch(&tobj_next_serial, 1, __ATOMIC_RELAXED);
    struct tobj *o = grt_alloc(sizeof *o);
    CHECK(o != 0);
    if (o->self != 0 || o->serial != 0) {
        /* Handed out while a holder still has it: the collector freed it while reachable. */
        t_puts(2, "tobj_new: a fresh object at 0x");
        t_putu(2, (uintptr_t)o, 16);
        t_puts(2, " is not zero (it holds serial ");
        t_putu(2, o->serial, 10);
        t_puts(2, "): it was freed while reachable and handed out again\n");
        grt_exit(1);
    }
    o->self = (uintptr_t)o;
    o->serial = s;
    o->pat = tobj_pat(s);
    return o;
}

/* Exits with "<test>: the object in slot i<where> (serial s) at 0x... was freed while
 * reachable: ..." unless o is intact with serial s. */
static void tobj_check(const char *test, const char *where, unsigned i, const struct tobj *o,
                       uint64_t s) {
    if (o->self == (uintptr_t)o && o->serial == s && o->pat == tobj_pat(s)) return;
    t_puts(2, test);
    t_puts(2, ": the object in slot ");
    t_putu(2, i, 10);
    t_puts(2, where);
    t_puts(2, " (serial ");
    t_putu(2, s, 10);
    t_puts(2, ") at 0x");
    t_putu(2, (uintptr_t)o, 16);
    t_puts(2, " was freed while reachable: it holds serial ");
    t_putu(2, o->serial, 10);
    t_puts(2, ", self 0x");
    t_putu(2, o->self, 16);
    t_puts(2, "\n");
    grt_exit(1);
}

#endif
