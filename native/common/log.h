/* log.h — one-line diagnostics to stderr, async-signal-safe (formats into a stack buffer, one write).
 *
 * The level comes from CORUN_LOG_LEVEL (error, warning, info, debug; default warning), read once.
 */
#ifndef CORUN_COMMON_LOG_H
#define CORUN_COMMON_LOG_H

enum cr_log_level { CR_LOG_ERROR = 0, CR_LOG_WARNING = 1, CR_LOG_INFO = 2, CR_LOG_DEBUG = 3 };

int cr_log_level(void);
void cr_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define CR_DEBUG(...) do { if (cr_log_level() >= CR_LOG_DEBUG) cr_log(CR_LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
