/* TEMPORARY no-op scheduler so native/intercept can build before native/sched lands. */
#include "sched/sched.h"
bool cr_thread_managed(void) { return false; }
void cr_block_begin(void) {}
void cr_block_end(void) {}
bool cr_yield(void) { return false; }
void cr_thread_begin(void) {}
void cr_thread_end(void) {}
void cr_exec_before(void) {}
void cr_exec_failed(void) {}
bool cr_affinity_get(pid_t tid, size_t size, cpu_set_t *set) { return false; }
bool cr_affinity_set(pid_t tid, size_t size, const cpu_set_t *set) { return false; }
void cr_sigmask_filter(sigset_t *set) {}
int corun_instance_prepare(const char *i, const char *c, char *e, size_t n) { return 0; }
int corun_instance_cleanup(const char *i) { return 0; }
int corun_instance_snapshot(const char *i, char *b, size_t n) { return -1; }
