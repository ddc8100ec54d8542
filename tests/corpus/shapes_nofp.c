/*
 * The corpus's frame-pointer-less translation unit (see shapes.c): built with
 * -fomit-frame-pointer, so this frame has no frame record and the frame-pointer register is
 * the compiler's to use; the frames it calls link past it.
 */
#include "gc_tobj.h"

struct ctx;

long nofp_level(long d, struct ctx *c, long (*next)(long, struct ctx *));

long nofp_level(long d, struct ctx *c, long (*next)(long, struct ctx *)) {
    struct tobj *o = tobj_new();
    uint64_t s = o->serial;
    long r = next(d - 1, c);
    tobj_check("corpus", " (nofp)", (unsigned)d, o, s);
    return r < 0 ? r : r + 1;
}
