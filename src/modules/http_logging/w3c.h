/*
 * The W3C extended log format as IIS writes it, without any server state:
 * the logExtFileFlags fields in IIS's column order, value escaping, the
 * header block, log lines, and the log file names of each rollover period.
 * Used by HttpLoggingModule (module.c) and by the unit tests.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* logExtFileFlags values (the schema's flag values). */
enum {
    W3C_DATE = 0x1,
    W3C_TIME = 0x2,
    W3C_CLIENT_IP = 0x4,
    W3C_USER_NAME = 0x8,
    W3C_SITE_NAME = 0x10,
    W3C_COMPUTER_NAME = 0x20,
    W3C_SERVER_IP = 0x40,
    W3C_METHOD = 0x80,
    W3C_URI_STEM = 0x100,
    W3C_URI_QUERY = 0x200,
    W3C_HTTP_STATUS = 0x400,
    W3C_WIN32_STATUS = 0x800,
    W3C_BYTES_SENT = 0x1000,
    W3C_BYTES_RECV = 0x2000,
    W3C_TIME_TAKEN = 0x4000,
    W3C_SERVER_PORT = 0x8000,
    W3C_USER_AGENT = 0x10000,
    W3C_COOKIE = 0x20000,
    W3C_REFERER = 0x40000,
    W3C_PROTOCOL_VERSION = 0x80000,
    W3C_HOST = 0x100000,
    W3C_HTTP_SUB_STATUS = 0x200000,
};

/* Column indexes, in the order IIS writes the columns. */
enum w3c_col {
    W3C_COL_DATE,
    W3C_COL_TIME,
    W3C_COL_SITE_NAME,
    W3C_COL_COMPUTER_NAME,
    W3C_COL_SERVER_IP,
    W3C_COL_METHOD,
    W3C_COL_URI_STEM,
    W3C_COL_URI_QUERY,
    W3C_COL_SERVER_PORT,
    W3C_COL_USER_NAME,
    W3C_COL_CLIENT_IP,
    W3C_COL_PROTOCOL_VERSION,
    W3C_COL_USER_AGENT,
    W3C_COL_COOKIE,
    W3C_COL_REFERER,
    W3C_COL_HOST,
    W3C_COL_HTTP_STATUS,
    W3C_COL_HTTP_SUB_STATUS,
    W3C_COL_WIN32_STATUS,
    W3C_COL_BYTES_SENT,
    W3C_COL_BYTES_RECV,
    W3C_COL_TIME_TAKEN,
    W3C_NCOLS
};

typedef struct {
    uint32_t flag;
    const char *name; /* as in the #Fields line */
} w3c_field_t;

/* Indexed by enum w3c_col. */
extern const w3c_field_t w3c_fields[W3C_NCOLS];

/* logFile period values (the schema's enum values). */
enum w3c_period { W3C_MAXSIZE = 0, W3C_DAILY = 1, W3C_WEEKLY = 2, W3C_MONTHLY = 3, W3C_HOURLY = 4 };

typedef struct {
    const char *s;
    size_t n;
} w3c_str_t;

/*
 * One value as a W3C column into out: "-" when empty, space and control
 * characters as '+'. Returns the length written (at most cap, no NUL).
 */
size_t w3c_escape(const char *s, size_t n, char *out, size_t cap);

/*
 * One log line: the columns whose flag is set, in IIS's order, separated by
 * single spaces and ended by CR LF. A line longer than cap bytes is cut to
 * cap - 2 bytes before the CR LF. Returns its length (cap must be >= 3).
 */
size_t w3c_format_line(uint32_t flags, const w3c_str_t vals[W3C_NCOLS], char *out, size_t cap);

/* "#Fields: date time ..." with CR LF; returns its length (0 if it does not fit). */
size_t w3c_fields_line(uint32_t flags, char *out, size_t cap);

/* The four header lines (#Software, #Version, #Date in UTC, #Fields); returns the length (0: too small). */
size_t w3c_header(const char *software, uint32_t flags, time_t now, char *out, size_t cap);

/* "yyyy-mm-dd" and "hh:mm:ss" of t in UTC. */
void w3c_date_time(time_t t, char date[11], char clock[9]);

/*
 * The log file name for time t: u_exYYMMDD.log (Daily), u_exYYMMDDHH.log
 * (Hourly), u_exYYMMWW.log (Weekly; WW the week of the month, weeks start on
 * Sunday, the 1st is in week 01), u_exYYMM.log (Monthly), u_extendN.log
 * (MaxSize, N = seq). The date is local time when local, else UTC; the "u_"
 * prefix is there when utf8 (logInUTF8). Returns the length, 0 if it does
 * not fit.
 */
size_t w3c_file_name(int period, bool utf8, bool local, time_t t, unsigned seq, char *out, size_t cap);

/* The sequence number of a MaxSize file name (u_extend12.log -> 12), 0 if name is not one. */
unsigned w3c_extend_seq(const char *name, bool utf8);
