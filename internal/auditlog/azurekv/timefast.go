package azurekv

import (
	"time"

	"vaultwatch/internal/auditlog/record"
)

// parseTime parses the UTC timestamps Key Vault and Log Analytics write,
// "2006-01-02T15:04:05[.fffffff]Z", without the generic parser, and hands
// anything else to record.ParseTime.
func parseTime(b []byte) (time.Time, bool) {
	if t, ok := parseUTC(b); ok {
		return t, true
	}
	return record.ParseTime(b)
}

// parseUTC is the fast path of parseTime; ok is false for any other shape.
func parseUTC(b []byte) (t time.Time, ok bool) {
	if len(b) < 20 || len(b) > 30 || b[len(b)-1] != 'Z' ||
		b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return t, false
	}
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	hour, ok4 := digits(b[11:13])
	min, ok5 := digits(b[14:16])
	if !(ok1 && ok2 && ok3 && ok4 && ok5) ||
		year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || min > 59 {
		return t, false
	}
	sec, nsec, ok := secondsUTC(b)
	if !ok {
		return t, false
	}
	days := daysFromCivil(year, month, day)
	unix := days*86400 + int64(hour*3600+min*60+sec)
	return time.Unix(unix, int64(nsec)).UTC(), true
}

// secondsUTC reads the seconds and the fraction of a time parseUTC reads,
// whose length, 'Z' and ':' before the seconds are checked.
func secondsUTC(b []byte) (sec, nsec int, ok bool) {
	sec, ok = digits(b[17:19])
	if !ok || sec > 59 {
		return 0, 0, false
	}
	if frac := b[19 : len(b)-1]; len(frac) > 0 {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			return 0, 0, false
		}
		n, ok := digits(frac[1:])
		if !ok {
			return 0, 0, false
		}
		for i := len(frac) - 1; i < 9; i++ {
			n *= 10
		}
		nsec = n
	}
	return sec, nsec, true
}

// minuteCache remembers the minute of the last time parseTime read: the
// records of a stream come in time order, many within one minute, and
// the rest of such a time is read without the calendar.
type minuteCache struct {
	minute [16]byte // "2006-01-02T15:04"
	unix   int64    // its start, in Unix seconds
	ok     bool
}

// parseTime is parseTime, first comparing the minute of b with the last
// one read.
func (c *minuteCache) parseTime(b []byte) (time.Time, bool) {
	if c.ok && len(b) >= 20 && len(b) <= 30 && b[len(b)-1] == 'Z' && b[16] == ':' &&
		string(b[:16]) == string(c.minute[:]) {
		if sec, nsec, ok := secondsUTC(b); ok {
			return time.Unix(c.unix+int64(sec), int64(nsec)).UTC(), true
		}
	}
	t, ok := parseUTC(b)
	if !ok {
		return record.ParseTime(b)
	}
	copy(c.minute[:], b[:16])
	c.unix = t.Unix() - int64(t.Second())
	c.ok = true
	return t, true
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the number of days from 1970-01-01 to the given
// proleptic Gregorian date (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400 // y >= 0: the year has four digits and is not 0
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}
