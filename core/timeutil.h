/*
 * Time in booktape: microseconds since the Unix epoch (UTC) in int64_t,
 * parsing of the TIME arguments ("2026-11-26T03:00Z", "2026-11-26") and
 * the UTC date/hour strings of the file layout.
 */
#ifndef CORE_TIMEUTIL_H
#define CORE_TIMEUTIL_H

#include <stdint.h>

#define US_PER_SEC  INT64_C(1000000)
#define US_PER_HOUR (INT64_C(3600) * US_PER_SEC)

/* CLOCK_REALTIME in µs. */
int64_t time_now_us(void);
/* CLOCK_MONOTONIC in µs, for intervals and timeouts. */
int64_t time_mono_us(void);

/*
 * Parse an ISO 8601 UTC time: "YYYY-MM-DD", "YYYY-MM-DDTHH[:MM[:SS]]Z",
 * "YYYY-MM-DDTHH:MMZ" or with "+00:00"; a bare "YYYY-MM-DDTHH:MM:SS" is
 * taken as UTC. Returns 0 and µs since the epoch in *out, or CORE_EPARSE.
 */
int time_parse_iso(const char *s, int64_t *out);

/* Start of the UTC hour holding `us`. */
int64_t time_hour_floor(int64_t us);

/*
 * "YYYY-MM-DD" and "HH" of the UTC hour holding `us`. date must hold 11
 * bytes, hour 3. Returns 0, or CORE_ERANGE for an unrepresentable time.
 */
int time_date_hour(int64_t us, char date[11], char hour[3]);

/* Inverse of time_date_hour: µs at the start of that hour, or CORE_EPARSE. */
int time_from_date_hour(const char *date, const char *hour, int64_t *out);

/* "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes). */
int time_format_iso(int64_t us, char *buf, unsigned long size);

#endif
