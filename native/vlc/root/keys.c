/* keys.c — thread-specific data keys private to the namespace.
 *
 * glibc keeps a thread's pthread_setspecific values in its struct pthread (specific[] / the first
 * block), which every libc copy of the process shares because the thread control block is one per
 * thread; but each libc copy has its own key table (__pthread_keys: sequence number and destructor
 * per index). A library of this namespace that creates a key gets an index in the namespace libc's
 * table, the base libc hands out the same small indices to its own users, and at thread exit the
 * libc that started the thread runs ITS destructor for every non-NULL value: measured, a Python
 * thread that had run a context's libgomp ended in the base libgomp's goacc_destroy_thread with the
 * namespace instance's data ("Assertion `walk' failed", abort).
 *
 * So the root defines pthread_key_create/delete and pthread_get/setspecific for the namespace
 * (libraries loaded after the root bind to these): keys and values live here, in this root's own
 * table and thread-local storage, never in struct pthread.
 *
 * Invariants: a key is in use while its sequence number is odd; a value counts only when stored
 * under the key's current sequence number (a deleted-and-reused key reads NULL). Destructors run
 * for threads started in this namespace (thread.c calls vr_tsd_thread_exit as such a thread ends,
 * normally or through pthread_exit); for threads the namespace did not start (a Python thread inside
 * a context) they do not run, and the thread's small value array is not freed either.
 */
#include "vlc/root/root.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>

#define VR_KEYS 256

struct vr_key {
    _Atomic unsigned long seq;
    void (*destr)(void *);
};

struct vr_value {
    unsigned long seq;
    void *value;
};

static struct vr_key keys[VR_KEYS];
static pthread_mutex_t keys_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread struct vr_value *values;   /* VR_KEYS entries, allocated on the first set */

VR_API int pthread_key_create(pthread_key_t *key, void (*destr)(void *))
{
    pthread_mutex_lock(&keys_lock);
    for (unsigned i = 0; i < VR_KEYS; i++) {
        unsigned long seq = atomic_load(&keys[i].seq);
        if (seq & 1)
            continue;
        keys[i].destr = destr;
        atomic_store(&keys[i].seq, seq + 1);
        pthread_mutex_unlock(&keys_lock);
        *key = i;
        return 0;
    }
    pthread_mutex_unlock(&keys_lock);
    return EAGAIN;
}

VR_API int pthread_key_delete(pthread_key_t key)
{
    if (key >= VR_KEYS)
        return EINVAL;
    pthread_mutex_lock(&keys_lock);
    unsigned long seq = atomic_load(&keys[key].seq);
    int r = EINVAL;
    if (seq & 1) {
        atomic_store(&keys[key].seq, seq + 1);
        r = 0;
    }
    pthread_mutex_unlock(&keys_lock);
    return r;
}

VR_API void *pthread_getspecific(pthread_key_t key)
{
    if (key >= VR_KEYS || !values)
        return NULL;
    struct vr_value *v = &values[key];
    return v->seq == atomic_load_explicit(&keys[key].seq, memory_order_relaxed) ? v->value : NULL;
}

VR_API int pthread_setspecific(pthread_key_t key, const void *value)
{
    if (key >= VR_KEYS)
        return EINVAL;
    unsigned long seq = atomic_load_explicit(&keys[key].seq, memory_order_relaxed);
    if (!(seq & 1))
        return EINVAL;
    if (!values) {
        if (!value)
            return 0;
        values = calloc(VR_KEYS, sizeof *values);
        if (!values)
            return ENOMEM;
    }
    values[key].seq = seq;
    values[key].value = (void *)value;
    return 0;
}

void vr_tsd_thread_exit(void)
{
    struct vr_value *vals = values;
    if (!vals)
        return;
    for (int round = 0; round < PTHREAD_DESTRUCTOR_ITERATIONS; round++) {
        int called = 0;
        for (unsigned i = 0; i < VR_KEYS; i++) {
            void *v = vals[i].value;
            if (!v)
                continue;
            vals[i].value = NULL;
            unsigned long seq = atomic_load(&keys[i].seq);
            void (*destr)(void *) = keys[i].destr;
            if (vals[i].seq == seq && (seq & 1) && destr) {
                destr(v);
                called = 1;
            }
        }
        if (!called)
            break;
    }
    values = NULL;
    free(vals);
}
