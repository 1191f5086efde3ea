package jsonenc

import (
	"encoding/binary"
	"slices"
	"time"
)

// TimeLayout is RFC 3339 with a fixed nine-digit fraction, so that lines
// sort and diff well: the form of an event's "t".
const TimeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// AppendTime appends t in UTC as TimeLayout does (RFC 3339 with nine
// fraction digits), several times faster than Time.AppendFormat, which
// parses the layout and splits the time on every call: an event's "t" is in
// the per-event hot path. Times before 1970 or after 9999 take the slow
// path. With a cache, the date and time of day are formatted once per
// second: the events of a capture come in time order, several a second.
func AppendTime(b []byte, t time.Time, cache *TimeCache) []byte {
	const maxUnix = 253402300800 // 10000-01-01T00:00:00Z
	sec := t.Unix()
	if sec < 0 || sec >= maxUnix {
		return t.UTC().AppendFormat(b, TimeLayout)
	}
	var p0, p1 uint64 // 2006-01-02T15:04:05. as stored: two words ...
	var p2 uint32     // ... and four bytes
	if cache != nil && cache.valid && cache.sec == sec {
		p0, p1, p2 = cache.p0, cache.p1, cache.p2
	} else {
		var d [20]byte
		year, month, day := civilDate(sec / 86400)
		daySec := int(sec % 86400)
		put2(&d, 0, year/100)
		put2(&d, 2, year%100)
		d[4] = '-'
		put2(&d, 5, month)
		d[7] = '-'
		put2(&d, 8, day)
		d[10] = 'T'
		put2(&d, 11, daySec/3600)
		d[13] = ':'
		put2(&d, 14, daySec/60%60)
		d[16] = ':'
		put2(&d, 17, daySec%60)
		d[19] = '.'
		p0 = binary.LittleEndian.Uint64(d[0:8])
		p1 = binary.LittleEndian.Uint64(d[8:16])
		p2 = binary.LittleEndian.Uint32(d[16:20])
		if cache != nil {
			cache.sec, cache.valid = sec, true
			cache.p0, cache.p1, cache.p2 = p0, p1, p2
		}
	}
	// All 30 bytes leave as stores of words made in registers (the
	// fraction's first eight digits by digits8), not written byte by
	// byte into an array and then copied: the copy read them back before
	// the stores had left the store buffer, and waited; and 20 bytes
	// appended from the cache took a call to memmove.
	ns := uint64(t.Nanosecond())
	at := len(b)
	b = slices.Grow(b, 30)[:at+30]
	d := b[at : at+30]
	binary.LittleEndian.PutUint64(d[0:8], p0)
	binary.LittleEndian.PutUint64(d[8:16], p1)
	binary.LittleEndian.PutUint32(d[16:20], p2)
	binary.LittleEndian.PutUint64(d[20:28], digits8(ns/10))
	d[28], d[29] = byte('0'+ns%10), 'Z'
	return b
}

// TimeCache is AppendTime's memory of the last second it formatted, for an
// encoder that writes many events in a row. The zero value is empty.
type TimeCache struct {
	sec    int64
	valid  bool
	p0, p1 uint64 // 2006-01-02T15:04:05. as AppendTime stores it
	p2     uint32
}

// put2 writes v, 0..99, as two digits at d[i:i+2].
func put2(d *[20]byte, i, v int) {
	d[i], d[i+1] = twoDigits[2*v], twoDigits[2*v+1]
}

// civilDate returns the proleptic Gregorian date of a day counted from
// 1970-01-01 (day ≥ 0), by Howard Hinnant's days_from_civil inverse
// (eras of 400 years, years starting in March).
func civilDate(day int64) (year, month, dayOfMonth int) {
	z := uint64(day) + 719468 // days since 0000-03-01
	era := z / 146097
	doe := z - era*146097                                  // day of era, 0..146096
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // year of era, 0..399
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // day of year from March 1, 0..365
	mp := (5*doy + 2) / 153                                // month from March, 0..11
	dayOfMonth = int(doy - (153*mp+2)/5 + 1)
	month = int(mp + 3)
	if mp >= 10 {
		month = int(mp - 9)
	}
	year = int(yoe + era*400)
	if month <= 2 {
		year++
	}
	return year, month, dayOfMonth
}
