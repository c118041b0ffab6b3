package taggedjson

import (
	"strings"
	"time"
)

// pyDatetime turns a time.Time into what Flask would hold after writing and
// reading it back: UTC (Werkzeug's http_date converts aware datetimes to UTC
// and treats naive ones as UTC already) and whole seconds (the HTTP date has
// no fraction). Years outside 1..9999 do not exist in Python.
func pyDatetime(t time.Time) (time.Time, error) {
	t = t.UTC()
	if y := t.Year(); y < 1 || y > 9999 {
		return t, newError(ErrUnsupportedValue, -1, "time outside Python's datetime range (years 1 to 9999)")
	}
	return t.Truncate(time.Second), nil
}

// Day and month abbreviations, three letters each, Sunday and January first.
const (
	dayAbbrs   = "SunMonTueWedThuFriSat"
	monthAbbrs = "JanFebMarAprMayJunJulAugSepOctNovDec"
)

// appendHTTPDate writes t (UTC, year 1..9999) as Werkzeug's http_date does,
// through email.utils.format_datetime(usegmt=True): "Tue, 02 Jan 2024 03:04:05
// GMT", the year zero-padded to four digits.
func appendHTTPDate(dst []byte, t time.Time) []byte {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	wd := int(t.Weekday())
	dst = append(dst, dayAbbrs[3*wd:3*wd+3]...)
	dst = append(dst, ',', ' ')
	dst = append2(dst, d)
	dst = append(dst, ' ')
	dst = append(dst, monthAbbrs[3*(mo-1):3*mo]...)
	dst = append(dst, ' ')
	dst = append2(append2(dst, y/100), y%100)
	dst = append(dst, ' ')
	dst = append2(dst, h)
	dst = append(dst, ':')
	dst = append2(dst, mi)
	dst = append(dst, ':')
	dst = append2(dst, s)
	return append(dst, " GMT"...)
}

func append2(dst []byte, n int) []byte { return append(dst, byte('0'+n/10), byte('0'+n%10)) }

// appendPyDatetimeStr writes str(datetime) for an aware datetime:
// "2024-01-02 03:04:05+02:00". It is needed only for Markup(datetime).
func appendPyDatetimeStr(dst []byte, t time.Time) []byte {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	dst = append2(append2(dst, y/100), y%100)
	dst = append(dst, '-')
	dst = append2(dst, int(mo))
	dst = append(dst, '-')
	dst = append2(dst, d)
	dst = append(dst, ' ')
	dst = append2(dst, h)
	dst = append(dst, ':')
	dst = append2(dst, mi)
	dst = append(dst, ':')
	dst = append2(dst, s)
	_, off := t.Zone()
	if off < 0 {
		dst = append(dst, '-')
		off = -off
	} else {
		dst = append(dst, '+')
	}
	dst = append2(dst, off/3600)
	dst = append(dst, ':')
	dst = append2(dst, off/60%60)
	if off%60 != 0 { // cannot happen for parsed dates (offsets are whole minutes)
		dst = append(dst, ':')
		dst = append2(dst, off%60)
	}
	return dst
}

// dateResult is what Werkzeug's parse_date gives for a string: a datetime,
// None, or an exception that it does not catch.
type dateResult int

const (
	dateOK   dateResult = iota
	dateNone            // Python returns None (the value loads as null)
	dateFail            // Python raises OverflowError: the payload fails to load
)

// isDayName reports whether s (lower-cased) is in email.utils' _daynames.
func isDayName(s string) bool {
	switch s {
	case "mon", "tue", "wed", "thu", "fri", "sat", "sun":
		return true
	}
	return false
}

// zoneOffset looks s (upper-cased) up in email.utils' _timezones, which
// holds offsets as HHMM numbers.
func zoneOffset(s string) (int64, bool) {
	switch s {
	case "UT", "UTC", "GMT", "Z":
		return 0, true
	case "ADT":
		return -300, true
	case "AST", "EDT":
		return -400, true
	case "EST", "CDT":
		return -500, true
	case "CST", "MDT":
		return -600, true
	case "MST", "PDT":
		return -700, true
	case "PST":
		return -800, true
	}
	return 0, false
}

// parseDate is Werkzeug's parse_date, i.e. Python's
// email.utils.parsedate_to_datetime with errors turned into None and naive
// results taken as UTC. It accepts what Flask writes ("Tue, 02 Jan 2024
// 03:04:05 GMT") and everything else the e-mail date parser tolerates: no or
// any day name, RFC 850 dates ("Tuesday, 02-Jan-24 03:04:05 GMT"), asctime
// order ("Jan 02 03:04:05 2024"), two-digit years (< 69 → 20xx, else 19xx),
// HH:MM without seconds, '.' as the time separator, the zones
// UT/UTC/GMT/Z/AST/ADT/EST/EDT/CST/CDT/MST/MDT/PST/PDT and ±HHMM offsets
// (results are converted to UTC; the offset is kept in the returned time's
// zone because str(datetime) needs it), Unicode digits where Python's int()
// takes them.
//
// The port follows _parsedate_tz step by step on purpose: its quirks (fields
// swapped when they look like something else, signs, underscores) decide which
// strings load as a date and which as None.
func parseDate(s string) (time.Time, dateResult) {
	data := pySplit(s)
	if len(data) == 0 {
		return time.Time{}, dateNone
	}
	if strings.HasSuffix(data[0], ",") || isDayName(asciiLower(data[0])) {
		data = data[1:]
	} else if i := strings.LastIndexByte(data[0], ','); i >= 0 {
		data[0] = data[0][i+1:]
	}
	if len(data) == 3 { // RFC 850 date, deprecated
		if stuff := strings.Split(data[0], "-"); len(stuff) == 3 {
			data = append(stuff, data[1:]...)
		}
	}
	if len(data) == 4 {
		s := data[3]
		i := strings.IndexByte(s, '+')
		if i == -1 {
			i = strings.IndexByte(s, '-')
		}
		if i > 0 {
			data = append(data[:3], s[:i], s[i:])
		} else {
			data = append(data, "") // dummy tz
		}
	}
	if len(data) < 5 {
		return time.Time{}, dateNone
	}
	dd, mm, yy, tm, tz := data[0], data[1], data[2], data[3], data[4]
	if dd == "" || mm == "" || yy == "" {
		return time.Time{}, dateNone
	}
	month := monthIndex(mm)
	if month == 0 {
		// Python lower()s both; lower() never changes what int() or the
		// trailing-comma test below see, so dd keeps its original case.
		dd, mm = mm, dd
		if month = monthIndex(mm); month == 0 {
			return time.Time{}, dateNone
		}
	}
	dd = strings.TrimSuffix(dd, ",")
	if i := strings.IndexByte(yy, ':'); i > 0 {
		yy, tm = tm, yy
	}
	if strings.HasSuffix(yy, ",") {
		if yy = yy[:len(yy)-1]; yy == "" {
			return time.Time{}, dateNone
		}
	}
	if r, _ := firstRune(yy); !pyIsDigit(r) {
		yy, tz = tz, yy
	}
	tm = strings.TrimSuffix(tm, ",")
	var thh, tmm, tss string
	switch parts := strings.Split(tm, ":"); len(parts) {
	case 2:
		thh, tmm, tss = parts[0], parts[1], "0"
	case 3:
		thh, tmm, tss = parts[0], parts[1], parts[2]
	case 1:
		if !strings.Contains(tm, ".") {
			return time.Time{}, dateNone
		}
		switch parts := strings.Split(tm, "."); len(parts) {
		case 2:
			thh, tmm, tss = parts[0], parts[1], "0"
		case 3:
			thh, tmm, tss = parts[0], parts[1], parts[2]
		default:
			return time.Time{}, dateNone
		}
	default:
		return time.Time{}, dateNone
	}
	var f [5]int64
	for i, txt := range [5]string{yy, dd, thh, tmm, tss} {
		v, ok := pyIntSat(txt)
		if !ok {
			return time.Time{}, dateNone
		}
		f[i] = v
	}
	year, day, hour, minute, second := f[0], f[1], f[2], f[3], f[4]
	if year < 100 { // two-digit years: 69..99 → 19xx, the rest → 20xx (even negative ones)
		if year > 68 {
			year += 1900
		} else {
			year += 2000
		}
	}

	// The time zone, in seconds east of UTC; haveTZ false is Python's None.
	haveTZ := false
	var off int64
	tzU := pyUpper(tz)
	if v, ok := zoneOffset(tzU); ok {
		off, haveTZ = v, true
	} else if v, ok := pyIntSat(tzU); ok {
		off, haveTZ = v, true
		if v == 0 && strings.HasPrefix(tzU, "-") {
			haveTZ = false // "-0000": UTC, but "no information" (naive)
		}
	}
	if haveTZ && off != 0 {
		sign := int64(1)
		if off < 0 {
			sign, off = -1, -off
		}
		if off > 1e15 {
			// Far beyond timedelta's range whatever the sign (and beyond
			// what the arithmetic below could hold without overflowing).
			return time.Time{}, dateFail
		}
		off = sign * ((off/100)*3600 + (off%100)*60)
	}
	if haveTZ {
		// timedelta(seconds=off) overflows (OverflowError, not caught by
		// Werkzeug) when its days exceed 999999999; timezone() rejects
		// anything not strictly within ±24h (ValueError → None).
		if d := floorDiv(off, 86400); d > 999999999 || d < -999999999 {
			return time.Time{}, dateFail
		}
		if off <= -86400 || off >= 86400 {
			return time.Time{}, dateNone
		}
	}
	// datetime() takes C ints: anything outside int32 raises OverflowError.
	for _, v := range [...]int64{year, day, hour, minute, second} {
		if v < -1<<31 || v > 1<<31-1 {
			return time.Time{}, dateFail
		}
	}
	if year < 1 || year > 9999 || day < 1 || day > int64(daysIn(time.Month(month), int(year))) ||
		hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 {
		return time.Time{}, dateNone
	}
	loc := time.UTC
	if haveTZ && off != 0 {
		loc = time.FixedZone("", int(off))
	}
	return time.Date(int(year), time.Month(month), int(day), int(hour), int(minute), int(second), 0, loc), dateOK
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// monthIndex returns 1..12 for a name in email.utils' _monthnames (after
// lower()), or 0.
func monthIndex(s string) int {
	switch asciiLower(s) {
	case "jan", "january":
		return 1
	case "feb", "february":
		return 2
	case "mar", "march":
		return 3
	case "apr", "april":
		return 4
	case "may":
		return 5
	case "jun", "june":
		return 6
	case "jul", "july":
		return 7
	case "aug", "august":
		return 8
	case "sep", "september":
		return 9
	case "oct", "october":
		return 10
	case "nov", "november":
		return 11
	case "dec", "december":
		return 12
	}
	return 0
}

// asciiLower lower-cases ASCII letters only. For matching Python's
// s.lower() against the ASCII day and month names that is exact: the only
// non-ASCII code point whose lower() is ASCII is the Kelvin sign (→ "k"), and
// no name contains a k.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// pyUpper is Python's str.upper() as far as matching ASCII zone names and
// int() are concerned: ASCII letters, plus the few non-ASCII code points
// whose upper case is ASCII (ſ → S, ﬆ → ST, ...). Other code points are kept
// and can never match.
func pyUpper(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case 'a' <= r && r <= 'z':
			b.WriteByte(byte(r) - ('a' - 'A'))
		case r < 0x80:
			b.WriteByte(byte(r))
		default:
			if u, ok := pyUpperASCII(r); ok {
				b.WriteString(u)
			} else {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}
