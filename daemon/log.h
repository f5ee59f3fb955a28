/* log.h - leveled logging: journald with structured fields when stderr is the journal,
 * else stderr lines with sd-daemon "<N>" priority prefixes. */
#ifndef OSD_LOG_H
#define OSD_LOG_H
#include <syslog.h>

void log_set_level(int max_priority);           /* LOG_ERR .. LOG_DEBUG */
int log_parse_level(const char *s);             /* name -> priority, -EINVAL if unknown */
void log_msg(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#endif
