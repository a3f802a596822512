/* real.h — lazy lookup of the functions corun interposes on.
 *
 * Invariant: an interposer never calls itself through the PLT. Each REAL(name) resolves the next
 * definition of `name` after libcorun (RTLD_NEXT) once, on first use, and caches it in a static
 * atomic pointer; resolution is safe from any thread and from constructors that run before ours
 * (Debian's OpenBLAS starts threads in its own constructor).
 *
 * Functions with several symbol versions in glibc (pthread_cond_*) must use REAL_V with the
 * default version, because dlsym(RTLD_NEXT) may return the oldest one.
 */
#ifndef CORUN_COMMON_REAL_H
#define CORUN_COMMON_REAL_H

#include <dlfcn.h>
#include <stdatomic.h>
#include <stddef.h>

void *cr_real_lookup(const char *name, const char *version);

#define CR_REAL_PTR(name, version)                                                              \
    ({                                                                                           \
        static _Atomic(void *) cr_real_##name##_ptr;                                             \
        void *cr_p_ = atomic_load_explicit(&cr_real_##name##_ptr, memory_order_acquire);         \
        if (__builtin_expect(cr_p_ == NULL, 0)) {                                                \
            cr_p_ = cr_real_lookup(#name, version);                                              \
            atomic_store_explicit(&cr_real_##name##_ptr, cr_p_, memory_order_release);           \
        }                                                                                        \
        (__typeof__(&name))cr_p_;                                                                \
    })

/* REAL(pthread_mutex_lock)(m) calls glibc's pthread_mutex_lock. */
#define REAL(name) CR_REAL_PTR(name, NULL)
/* REAL_V(pthread_cond_wait, "GLIBC_2.3.2")(c, m) for versioned symbols. */
#define REAL_V(name, version) CR_REAL_PTR(name, version)

#endif
