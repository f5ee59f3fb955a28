/* args.h - parsing of command-line values: durations, pids, bounded integers, seconds. */
#ifndef OSDCTL_ARGS_H
#define OSDCTL_ARGS_H
#include <stdint.h>
#include <sys/types.h>

/* "30s", "10m", "1h", "2d", "1w", "1h30m" or plain seconds "45" -> seconds.
 * 0, -EINVAL (not a duration) or -ERANGE (does not fit in int64 seconds). */
int args_parse_duration(const char *s, int64_t *secs);
/* A process id: decimal 1..INT32_MAX, nothing else. 0, -EINVAL or -ERANGE. */
int args_parse_pid(const char *s, pid_t *pid);
/* A decimal integer in [min, max]. 0, -EINVAL (not an integer) or -ERANGE (out of bounds). */
int args_parse_int(const char *s, long long min, long long max, long long *v);
/* A non-negative decimal number of seconds no larger than max ("10", "0.5"). 0, -EINVAL, -ERANGE. */
int args_parse_seconds(const char *s, double max, double *v);
/* A finite non-negative decimal number, exponent allowed ("0.001", "1e-4"); no sign, hex,
 * "inf" or "nan". 0, -EINVAL or -ERANGE (overflows or underflows). */
int args_parse_real(const char *s, double *v);
#endif
