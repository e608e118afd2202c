/*
 * log.h — sockgate's one logging channel: stderr, text or JSON lines.
 *
 * stderr because the intended home is a systemd service, where journald
 * collects it; JSON because decisions must be machine-readable for audits.
 * Logging never blocks `sockgate serve`'s event loop: see log_writer.h.
 */
#ifndef SG_LOG_H
#define SG_LOG_H

#include <jansson.h>

typedef enum { SG_LOG_TEXT, SG_LOG_JSON } sg_log_format;
typedef enum { SG_LOG_DEBUG, SG_LOG_INFO, SG_LOG_WARN, SG_LOG_ERROR } sg_log_level;

void sg_log_setup(sg_log_format format, sg_log_level min_level);
sg_log_format sg_log_get_format(void);

void sg_log(sg_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Log one structured event. `fields` is consumed (decref'd). In text mode
 * the fields are printed as key=value after msg.
 */
void sg_log_event(sg_log_level level, const char *msg, json_t *fields);

/*
 * The same for a line of the audit trail (the gate's decisions): a lost
 * one is counted on its own (base/log_writer.h, `sockgate status`).
 */
void sg_log_audit(sg_log_level level, const char *msg, json_t *fields);

/*
 * One line as it would be logged, without its newline, whatever the
 * level; `fields` is only read. malloc'd, NULL when out of memory. For the
 * log writer's own warnings.
 */
char *sg_log_format_line(sg_log_level level, const char *msg, json_t *fields);

#define sg_debug(...) sg_log(SG_LOG_DEBUG, __VA_ARGS__)
#define sg_info(...) sg_log(SG_LOG_INFO, __VA_ARGS__)
#define sg_warn(...) sg_log(SG_LOG_WARN, __VA_ARGS__)
#define sg_error(...) sg_log(SG_LOG_ERROR, __VA_ARGS__)

#endif
