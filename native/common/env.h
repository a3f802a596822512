/* env.h — configuration read from CORUN_* environment variables.
 *
 * A value outside its range (or not a whole number) is reported once on stderr and the default is
 * used: a managed program never fails because of a knob.
 */
#ifndef CORUN_COMMON_ENV_H
#define CORUN_COMMON_ENV_H

/* $name as a whole number in [lo, hi]; `dflt` when unset, empty or invalid. */
unsigned cr_env_uint(const char *name, unsigned dflt, unsigned lo, unsigned hi);

#endif
