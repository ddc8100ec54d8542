/* grt-test: exit=0 stdout="ok int" stdout="ok struct of 4 longs (memory)" stdout="ok struct of 2 doubles" stdout="ok long double" stdout="ok complex long double" stdout="ok two barriers" stdout="ok every caller-saved register" stdout="PASS" env="GRTGC=off" builds=testhooks
 *
 * Returning through a stack barrier (the trampoline grt_stack_barrier, asm/<arch>/stkbar.S)
 * delivers every kind of return value bit for bit. For each kind, a function f calls
 * grt_test_stkbar_install() (test-only build: a barrier in the return-address slot of every
 * frame record from f's own up to the goroutine's outermost) and then returns a value it
 * computes from volatile globals, so that nothing can be folded across the call. Its caller
 * checks that exactly one barrier was hit when f returned (g->stkbar_pos == 1), removes the
 * others (grt_test_stkbar_remove: installed - 1 left) and compares the value with what it
 * rebuilds from the same globals:
 *
 *   kind                      x86_64                  aarch64
 *   int, long, pointer        rax                     x0
 *   struct of 2 longs         rax:rdx                 x0:x1
 *   struct of 4 longs         memory (rax = address)  memory (x8 = address)
 *   double, float             xmm0                    d0, s0
 *   struct of 2 doubles       xmm0:xmm1               d0:d1
 *   struct of 4 doubles       memory                  d0-d3 (HFA)
 *   struct {long; double}     rax, xmm0               x0:x1
 *   long double               st0                     q0 (IEEE quad)
 *   complex double            xmm0:xmm1               d0:d1
 *   complex long double       st0:st1                 q0:q1
 *
 * Two barriers: an outer function returns what an inner one returned, through both.
 * Every caller-saved register: gc_retvals_<arch>.S loads known values into the result
 * registers and every other register a caller may find intact after a call (gcc's -fipa-ra
 * keeps values in caller-saved registers across calls to functions of the same file that do
 * not touch them): x86_64 rax, rcx, rdx, rsi, rdi, r8-r11, xmm0-xmm15 in full, st0, st1;
 * aarch64 x0-x15, x18, q0-q7 and q16-q31 in full (not x16/x17: any call may clobber them).
 * It does so right before a return through a barrier, and stores what arrives, through a
 * second barrier, for comparison here.
 *
 * GRTGC=off: no collection cycle may install or remove barriers of its own meanwhile.
 */
#include "check.h"

int grt_test_stkbar_install(void);
int grt_test_stkbar_hits(void);
int grt_test_stkbar_remove(void);

/* A real call with its own frame record and a `ret` at the end: no inlining, no cloning, no
 * change of the calling convention by interprocedural analysis. */
#define RETFN __attribute__((noinline, noipa))

#if defined(__x86_64__)
#define LDBL_BYTES 10 /* x87 extended precision; the other 6 bytes are padding */
#else
#define LDBL_BYTES 16 /* IEEE binary128 */
#endif

/* Bit patterns: normal numbers (no NaN may be quietened on the way), distinct words. */
static volatile uint64_t K[12] = {
    0x0123456789abcdefULL, 0xfedcba9876543210ULL, /* integers */
    0x0f1e2d3c4b5a6978ULL, 0x8796a5b4c3d2e1f0ULL,
    0x400921fb54442d18ULL, /* pi */
    0x4005bf0a8b145769ULL, /* e */
    0x3ff6a09e667f3bcdULL, /* sqrt 2 */
    0xbfe62e42fefa39efULL, /* -ln 2 */
    0x0000000040490fdbULL, /* pi, float */
#if defined(__x86_64__)
    0xc90fdaa22168c235ULL, 0x0000000000004000ULL, /* pi, x87: mantissa, sign + exponent */
    0xadf85458a2bb4a9bULL,                         /* e's mantissa (exponent 0x4000) */
#else
    0x8469898cc51701b8ULL, 0x4000921fb54442d1ULL, /* pi, binary128: low, high */
    0x40005bf0a8b14576ULL,                         /* e's high word (low: K[9]) */
#endif
};

static volatile int installed; /* what the last grt_test_stkbar_install returned */
static volatile int hits_between; /* two barriers: hits when the inner function returned */

static double dbl(uint64_t b) {
    double d;
    __builtin_memcpy(&d, &b, sizeof d);
    return d;
}
static float flt(uint64_t b) {
    float f;
    uint32_t w = (uint32_t)b;
    __builtin_memcpy(&f, &w, sizeof f);
    return f;
}
static long double ldbl(uint64_t lo, uint64_t hi) {
    uint64_t w[2] = {lo, hi};
    long double v;
    __builtin_memcpy(&v, w, sizeof v);
    return v;
}
static uint64_t bits(double d) {
    uint64_t b;
    __builtin_memcpy(&b, &d, sizeof b);
    return b;
}
static int same(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i]) return 0;
    return 1;
}

/* Pi and e as long doubles, from K. */
static long double ld_pi(void) { return ldbl(K[9], K[10]); }
#if defined(__x86_64__)
static long double ld_e(void) { return ldbl(K[11], K[10]); }
#else
static long double ld_e(void) { return ldbl(K[9], K[11]); }
#endif

struct l2 { long a, b; };
struct l4 { long a, b, c, d; };
struct d2 { double a, b; };
struct d4 { double a, b, c, d; };
struct ld { long a; double b; };

static struct l2 mk_l2(void) { return (struct l2){(long)K[0], (long)K[1]}; }
static struct l4 mk_l4(void) { return (struct l4){(long)K[0], (long)K[1], (long)K[2], (long)K[3]}; }
static struct d2 mk_d2(void) { return (struct d2){dbl(K[4]), dbl(K[5])}; }
static struct d4 mk_d4(void) { return (struct d4){dbl(K[4]), dbl(K[5]), dbl(K[6]), dbl(K[7])}; }
static struct ld mk_ld(void) { return (struct ld){(long)K[1], dbl(K[6])}; }

/* The functions that return through a barrier: install, then compute the result. */
static RETFN int ret_int(void) {
    installed = grt_test_stkbar_install();
    return (int)K[1];
}
static RETFN long ret_long(void) {
    installed = grt_test_stkbar_install();
    return (long)K[0];
}
static RETFN void *ret_ptr(void) {
    installed = grt_test_stkbar_install();
    return (void *)(uintptr_t)K[3];
}
static RETFN struct l2 ret_l2(void) {
    installed = grt_test_stkbar_install();
    return mk_l2();
}
static RETFN struct l4 ret_l4(void) {
    installed = grt_test_stkbar_install();
    return mk_l4();
}
static RETFN double ret_double(void) {
    installed = grt_test_stkbar_install();
    return dbl(K[4]);
}
static RETFN float ret_float(void) {
    installed = grt_test_stkbar_install();
    return flt(K[8]);
}
static RETFN struct d2 ret_d2(void) {
    installed = grt_test_stkbar_install();
    return mk_d2();
}
static RETFN struct d4 ret_d4(void) {
    installed = grt_test_stkbar_install();
    return mk_d4();
}
static RETFN struct ld ret_mixed(void) {
    installed = grt_test_stkbar_install();
    return mk_ld();
}
static RETFN long double ret_ldouble(void) {
    installed = grt_test_stkbar_install();
    return ld_pi();
}
static RETFN _Complex double ret_cdouble(void) {
    installed = grt_test_stkbar_install();
    return __builtin_complex(dbl(K[5]), dbl(K[7]));
}
static RETFN _Complex long double ret_cldouble(void) {
    installed = grt_test_stkbar_install();
    return __builtin_complex(ld_e(), ld_pi());
}

/* Two barriers: inner's return into outer, then outer's return into its caller. */
static RETFN struct d2 nested_inner(void) {
    installed = grt_test_stkbar_install();
    return mk_d2();
}
static RETFN struct l2 nested_outer(void) {
    struct d2 d = nested_inner();
    hits_between = grt_test_stkbar_hits();
    return (struct l2){(long)(bits(d.a) ^ K[0]), (long)(bits(d.b) ^ K[1])};
}

/* After a function that installed barriers returned: `want` of them were hit, and removing
 * the rest leaves none. */
static void after_return(int want, const char *kind) {
    int hits = grt_test_stkbar_hits();
    int n = installed;
    int left = grt_test_stkbar_remove();
    if (n < want + 1) { /* at least one barrier above the ones we returned through */
        t_puts(2, kind);
        t_puts(2, ": grt_test_stkbar_install returned ");
        t_putu(2, (unsigned long long)(long long)n, 10);
        t_puts(2, "\n");
        grt_exit(1);
    }
    CHECK_EQ(hits, want);
    CHECK_EQ(left, n - want);
    CHECK_EQ(grt_test_stkbar_hits(), 0);
}

static void ok(const char *kind) {
    t_puts(1, "ok ");
    t_puts(1, kind);
    t_puts(1, "\n");
}

/* One check function per kind, each with its own frame (which also gets a barrier). */
#define CHECK_KIND(name, T, call, want_expr, nbytes)                                        \
    static RETFN void name(void) {                                                          \
        T got = call();                                                                     \
        after_return(1, #name);                                                             \
        T want = want_expr;                                                                 \
        if (!same(&got, &want, nbytes)) {                                                   \
            t_puts(2, #name ": the value returned through the barrier differs\n");          \
            grt_exit(1);                                                                    \
        }                                                                                   \
    }

CHECK_KIND(check_int, int, ret_int, (int)K[1], sizeof(int))
CHECK_KIND(check_long, long, ret_long, (long)K[0], sizeof(long))
CHECK_KIND(check_ptr, void *, ret_ptr, (void *)(uintptr_t)K[3], sizeof(void *))
CHECK_KIND(check_l2, struct l2, ret_l2, mk_l2(), sizeof(struct l2))
CHECK_KIND(check_l4, struct l4, ret_l4, mk_l4(), sizeof(struct l4))
CHECK_KIND(check_double, double, ret_double, dbl(K[4]), sizeof(double))
CHECK_KIND(check_float, float, ret_float, flt(K[8]), sizeof(float))
CHECK_KIND(check_d2, struct d2, ret_d2, mk_d2(), sizeof(struct d2))
CHECK_KIND(check_d4, struct d4, ret_d4, mk_d4(), sizeof(struct d4))
CHECK_KIND(check_mixed, struct ld, ret_mixed, mk_ld(), sizeof(struct ld))
CHECK_KIND(check_ldouble, long double, ret_ldouble, ld_pi(), LDBL_BYTES)
CHECK_KIND(check_cdouble, _Complex double, ret_cdouble, __builtin_complex(dbl(K[5]), dbl(K[7])),
           sizeof(_Complex double))

static RETFN void check_cldouble(void) {
    _Complex long double got = ret_cldouble();
    after_return(1, "check_cldouble");
    long double re = __real__ got, im = __imag__ got, want_re = ld_e(), want_im = ld_pi();
    CHECK(same(&re, &want_re, LDBL_BYTES));
    CHECK(same(&im, &want_im, LDBL_BYTES));
}

static RETFN void check_nested(void) {
    struct l2 got = nested_outer();
    CHECK_EQ(hits_between, 1);
    after_return(2, "check_nested");
    struct d2 d = mk_d2();
    CHECK_EQ(got.a, (long)(bits(d.a) ^ K[0]));
    CHECK_EQ(got.b, (long)(bits(d.b) ^ K[1]));
}

/* ---- Every register a caller may rely on, from assembly (gc_retvals_<arch>.S) ---- */

#if defined(__x86_64__)
struct retregs {
    uint64_t gpr[9];     /* rax rdx rcx rsi rdi r8 r9 r10 r11 at 0..64 */
    uint64_t pad;        /* 72 */
    uint64_t vec[16][2]; /* xmm0..xmm15 at 80..320 */
    uint64_t st0[2];     /* 336: 10 bytes (x87 extended) */
    uint64_t st1[2];     /* 352 */
};
_Static_assert(__builtin_offsetof(struct retregs, vec) == 80, "layout used by the .S");
_Static_assert(__builtin_offsetof(struct retregs, st0) == 336, "layout used by the .S");
_Static_assert(__builtin_offsetof(struct retregs, st1) == 352, "layout used by the .S");
static const char *const gprnames[] = {"rax", "rdx", "rcx", "rsi", "rdi", "r8", "r9", "r10", "r11"};
#define NGPR 9
#define NVEC 16
#define VEC "xmm"
#define VEC_CHECKED(i) 1
#define GPR_CHECKED(i) 1
#else
struct retregs {
    uint64_t gpr[19];    /* x0..x18 at 0..144 (x16, x17 not checked) */
    uint64_t pad;        /* 152 */
    uint64_t vec[32][2]; /* q0..q31 at 160..656 (q8..q15 not checked) */
};
_Static_assert(__builtin_offsetof(struct retregs, vec) == 160, "layout used by the .S");
static const char *const gprnames[] = {"x0",  "x1",  "x2",  "x3",  "x4",  "x5",  "x6",
                                       "x7",  "x8",  "x9",  "x10", "x11", "x12", "x13",
                                       "x14", "x15", "x16", "x17", "x18"};
#define NGPR 19
#define NVEC 32
#define VEC "q"
#define VEC_CHECKED(i) ((i) < 8 || (i) >= 16)
#define GPR_CHECKED(i) ((i) != 16 && (i) != 17)
#endif

/* Read and written by the assembly. */
struct retregs retregs_want, retregs_seen;
int retregs_installed;
/* Calls retregs_leaf, which installs barriers (retregs_installed), loads the registers from
 * retregs_want and returns through a barrier; stores what arrived into retregs_seen and
 * returns through a second barrier. */
void retregs_check(void);

static void bad_reg(int *bad, const char *prefix, const char *name) {
    if (!*bad) t_puts(2, "registers changed by the stack barrier:");
    t_puts(2, " ");
    t_puts(2, prefix);
    t_puts(2, name);
    *bad = 1;
}

static RETFN void check_all_registers(void) {
    static const char *const digits[] = {"0",  "1",  "2",  "3",  "4",  "5",  "6",  "7",
                                         "8",  "9",  "10", "11", "12", "13", "14", "15",
                                         "16", "17", "18", "19", "20", "21", "22", "23",
                                         "24", "25", "26", "27", "28", "29", "30", "31"};
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (int round = 0; round < 100; round++) {
        uint64_t *w = (uint64_t *)&retregs_want;
        for (size_t i = 0; i < sizeof retregs_want / 8; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            w[i] = x;
        }
#if defined(__x86_64__)
        /* Valid x87 numbers: integer bit set, exponent in range, sign from the pattern. */
        retregs_want.st0[0] |= 1ULL << 63;
        retregs_want.st0[1] = 0x3fff + (retregs_want.st0[1] & 0x83ff);
        retregs_want.st1[0] |= 1ULL << 63;
        retregs_want.st1[1] = 0x3fff + (retregs_want.st1[1] & 0x83ff);
#endif
        __builtin_memset(&retregs_seen, 0, sizeof retregs_seen);
        retregs_check();
        int hits = grt_test_stkbar_hits();
        int n = retregs_installed;
        int left = grt_test_stkbar_remove();
        CHECK(n >= 2);
        CHECK_EQ(hits, 2);
        CHECK_EQ(left, n - 2);
        int bad = 0;
        for (int i = 0; i < NGPR; i++)
            if (GPR_CHECKED(i) && retregs_seen.gpr[i] != retregs_want.gpr[i])
                bad_reg(&bad, "", gprnames[i]);
        for (int i = 0; i < NVEC; i++)
            if (VEC_CHECKED(i) && !same(retregs_seen.vec[i], retregs_want.vec[i], 16))
                bad_reg(&bad, VEC, digits[i]);
#if defined(__x86_64__)
        if (!same(retregs_seen.st0, retregs_want.st0, 10)) bad_reg(&bad, "", "st0");
        if (!same(retregs_seen.st1, retregs_want.st1, 10)) bad_reg(&bad, "", "st1");
#endif
        if (bad) {
            t_puts(2, "\n");
            grt_exit(1);
        }
    }
}

static void body(void *arg) {
    (void)arg;
    CHECK_EQ(grt_test_stkbar_hits(), 0);
    check_int();
    ok("int");
    check_long();
    ok("long");
    check_ptr();
    ok("pointer");
    check_l2();
    ok("struct of 2 longs");
    check_l4();
    ok("struct of 4 longs (memory)");
    check_double();
    ok("double");
    check_float();
    ok("float");
    check_d2();
    ok("struct of 2 doubles");
    check_d4();
    ok("struct of 4 doubles (HFA)");
    check_mixed();
    ok("struct {long; double}");
    check_ldouble();
    ok("long double");
    check_cdouble();
    ok("complex double");
    check_cldouble();
    ok("complex long double");
    check_nested();
    ok("two barriers");
    check_all_registers();
    ok("every caller-saved register");
}

int main(void) {
    CHECK_EQ(grt_main(body, 0), GRT_OK);
    t_puts(1, "PASS\n");
    return 0;
}
