/*
 * log.c — formatting of log lines (see log.h).
 *
 * Each line is written with a single write(2) so that lines from one
 * process never interleave mid-line in the journal.
 */
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
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

static void log_write_line(const char *line)
{
    size_t len = strlen(line);
    while (len > 0) {
        ssize_t n = write(STDERR_FILENO, line, len);
        if (n <= 0)
            return; /* nowhere left to complain */
        line += n;
        len -= (size_t)n;
    }
}

static void log_emit_json(sg_log_level level, const char *msg, json_t *fields)
{
    char ts[40];
    log_timestamp(ts, sizeof ts);
    json_t *obj = json_object();
    json_object_set_new(obj, "time", json_string(ts));
    json_object_set_new(obj, "level", json_string(level_names[level]));
    json_object_set_new(obj, "msg", json_string(msg));
    if (fields)
        json_object_update(obj, fields);
    char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(obj);
    if (!text)
        return;
    size_t len = strlen(text);
    char *line = malloc(len + 2);
    if (line) {
        memcpy(line, text, len);
        line[len] = '\n';
        line[len + 1] = '\0';
        log_write_line(line);
        free(line);
    }
    free(text);
}

static void log_emit_text(sg_log_level level, const char *msg, json_t *fields)
{
    char ts[40];
    log_timestamp(ts, sizeof ts);
    char line[4096];
    int n = snprintf(line, sizeof line, "%s sockgate[%ld] %s: %s", ts,
                     (long)getpid(), level_names[level], msg);
    const char *key;
    json_t *value;
    json_object_foreach(fields, key, value)
    {
        if (n < 0 || (size_t)n >= sizeof line - 2)
            break;
        char *v = json_is_string(value)
                      ? NULL
                      : json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);
        n += snprintf(line + n, sizeof line - (size_t)n, " %s=%s", key,
                      v ? v : json_string_value(value));
        free(v);
    }
    if (n < 0 || (size_t)n > sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n] = '\n';
    line[n + 1] = '\0';
    log_write_line(line);
}

void sg_log_event(sg_log_level level, const char *msg, json_t *fields)
{
    if (level >= log_min) {
        if (log_format == SG_LOG_JSON)
            log_emit_json(level, msg, fields);
        else
            log_emit_text(level, msg, fields);
    }
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
