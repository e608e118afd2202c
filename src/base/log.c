/*
 * log.c — formatting of log lines (see log.h).
 *
 * A line is formatted on the thread that logs it and handed whole to
 * base/log_writer.c, which owns writing it: at once, or through the
 * queue `sockgate serve` drains on a thread of its own.
 */
#include "base/log.h"

#include "base/log_writer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static sg_log_format log_format = SG_LOG_TEXT;
static sg_log_level log_min = SG_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void sg_log_setup(sg_log_format format, sg_log_level min_level)
{
    log_format = format;
    log_min = min_level;
}

sg_log_format sg_log_get_format(void) { return log_format; }

static void log_timestamp(char *out, size_t outsz)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, outsz, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, outsz - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* JSON: one object per line, the event's fields after time, level, msg. */
static char *log_format_json(sg_log_level level, const char *ts, const char *msg,
                             json_t *fields)
{
    json_t *obj = json_object();
    json_object_set_new(obj, "time", json_string(ts));
    json_object_set_new(obj, "level", json_string(level_names[level]));
    json_object_set_new(obj, "msg", json_string(msg));
    if (fields)
        json_object_update(obj, fields);
    char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(obj);
    return text;
}

/* Text: the fields as key=value after msg, cut at the buffer's end. */
static size_t log_format_text(sg_log_level level, const char *ts, const char *msg,
                              json_t *fields, char *line, size_t linesz)
{
    int n = snprintf(line, linesz, "%s sockgate[%ld] %s: %s", ts, (long)getpid(),
                     level_names[level], msg);
    const char *key;
    json_t *value;
    json_object_foreach(fields, key, value)
    {
        if (n < 0 || (size_t)n >= linesz - 1)
            break;
        char *v = json_is_string(value)
                      ? NULL
                      : json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);
        n += snprintf(line + n, linesz - (size_t)n, " %s=%s", key,
                      v ? v : json_string_value(value));
        free(v);
    }
    if (n < 0 || (size_t)n > linesz - 1)
        n = (int)linesz - 1;
    return (size_t)n;
}

/* A text line is cut here; JSON lines are whole (audit pipelines parse them). */
#define LOG_TEXT_MAX 4096

char *sg_log_format_line(sg_log_level level, const char *msg, json_t *fields)
{
    char ts[40];
    log_timestamp(ts, sizeof ts);
    if (log_format == SG_LOG_JSON)
        return log_format_json(level, ts, msg, fields);
    char line[LOG_TEXT_MAX];
    size_t len = log_format_text(level, ts, msg, fields, line, sizeof line);
    return strndup(line, len);
}

/* Formatted on the caller's thread; base/log_writer.c decides when the
 * line is written. */
static void log_emit(sg_log_level level, const char *msg, json_t *fields, bool audit)
{
    if (level < log_min)
        return;
    char *text = sg_log_format_line(level, msg, fields);
    if (text)
        sg_log_put(text, strlen(text), audit);
    free(text);
}

void sg_log_event(sg_log_level level, const char *msg, json_t *fields)
{
    log_emit(level, msg, fields, false);
    json_decref(fields);
}

void sg_log_audit(sg_log_level level, const char *msg, json_t *fields)
{
    log_emit(level, msg, fields, true);
    json_decref(fields);
}

void sg_log(sg_log_level level, const char *fmt, ...)
{
    if (level < log_min)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sg_log_event(level, msg, NULL);
}
