"""Differential corpus for the taggedjson tests: inputs run through the real
Flask session serializer, with its answers.

    python3 testdata/gen_pyvectors.py > testdata/pyvectors.json

Needs Flask 3.1.3 (the same interpreter that generated the shared vectors).
Deterministic: the pseudo-random parts use a fixed seed.

Sections:
  loads:   {"json": text, "ok": bool, "exc": exception class (when not ok),
            "value": markers (when the value has no lone surrogate),
            "redump": Flask's dumps of the loaded value, or null when that fails}
  floats:  [[float.hex(), repr-in-json], ...]  (dumps of {"v": f})
  strings: [[[code points], dumps of {"s": str}], ...]
"""
import json
import math
import random
import struct
import sys
import uuid
import datetime as dt

sys.path.insert(0, "/work/shared/flask-compat/gen")
from common import jsonable  # noqa: E402

from flask import Flask  # noqa: E402
from flask.sessions import session_json_serializer as S  # noqa: E402

rnd = random.Random(20240102)
app = Flask("pyvectors")


def has_surrogate(v):
    if isinstance(v, str):
        return any(0xD800 <= ord(c) <= 0xDFFF for c in v)
    if isinstance(v, (list, tuple)):
        return any(has_surrogate(x) for x in v)
    if isinstance(v, dict):
        return any(has_surrogate(k) or has_surrogate(x) for k, x in v.items())
    return False


loads_inputs = []
add = loads_inputs.append

# ---- JSON grammar (Python's json module)
for t in ['1E400', '-1E400', '1e-400', '-0', '-0.0', '0.1', '1.5E+3', '1e5', '1E-5', '123456789012345678',
          '1234567890123456789', '-9223372036854775808', '9223372036854775807', '9223372036854775808',
          '-9223372036854775809', '1' * 4300, '-' + '9' * 4300, '1' * 4301, '0.' + '1' * 400, '1' * 400 + '.5',
          '01', '1.', '.5', '+1', '- 1', '1e', '1e+', '0x10', '--1', '-', 'NaN', '-NaN', 'Infinity', '-Infinity',
          'nan', 'infinity', 'true', 'True', 'null', 'nul', '[]', '{}', '[1,]', '{"a":1,}', '{"a" : 1 , "b" :2 }',
          ' \t\n\r[1]\r\n', '\u00a0[1]', '[1]x', '', ' ', '"abc', '{"a"}', '{a:1}', "{'a':1}", '[1 2]',
          '{"a":1,"a":2}', '{"a":{"b":1},"a":[2]}', '[[[[]]]]', '"\\/"', '"\\u00E9\\u00e9"', '"\\x41"',
          '"\\ud800"', '"\\udc00"', '"\\ud83d\\ude00"', '"\\uD83D\\uDE00"', '"\\ud83d\\u0041"', '"\\ud83d"',
          '"\\ud800\\ud800"', '"\\udc00\\ud800"', '"\\ud83d\\ude0"', '"\\u12"', '"a\tb"', '"a\x7fb"', '"\x1f"',
          '"\\', '"\\"', '"\\a"', '"caf\u00e9 \u2603 \U0001F600"', '"\u2028\u2029"', '{"\\ud800":1,"\\ud7ff":2,"\\ue000":3}',
          '{"k\\u0000":0}', '"\\u0000"', '[NaN,Infinity,-Infinity]', '[1e308, 1.7976931348623157e308, 1.8e308]',
          '[5e-324, 2.5e-324, 2.4e-324]', '1e99999999999999999999', '-1e99999999999999999999', '1e-99999999999999999999',
          '0e99999999999', '0.' + '0' * 50 + '1e400', '1.7976931348623158e308', '1.7976931348623159e308', '[0.30000000000000004, 100.0, 1e16, 1e15, 0.0001, 0.00001]']:
    add(t)

# ---- tags applied to every kind of value
tag_values = ['null', 'true', 'false', '0', '1', '-1', '1.5', '0.0', '-0.0', 'NaN', 'Infinity', '""', '"ab"',
              '"YWI="', '"\u00e9\u00e9\u00e9"', '"a\\ud800b"', '[]', '[1,2]', '["ab"]', '{}', '{"a":1}',
              '{"b":1,"a":2}', '{"b":1,"a":2,"b":3}', '{"ab__":1,"cd":2}', '{" t":[1]}', '{" t":"xy"}',
              '{" b":"YWI="}', '{" b":""}', '{" b":"J2Ei"}', '{" b":"AAEC/w=="}', '{" m":"x"}', '{" m":""}',
              '{" u":"12345678123456781234567812345678"}', '{" d":"Tue, 02 Jan 2024 03:04:05 +0200"}',
              '{" d":"Tue, 02 Jan 2024 03:04:05 GMT"}', '{" d":"Fri, 01 Jan 0100 00:30:00 +0100"}',
              '{" d":"x"}', '{" di":{"ab__":1}}', '{" di":{" t__":[1]}}', '123456789012345678901234567890',
              '1e300', '5e-324']
for tag in [' t', ' di', ' b', ' m', ' u', ' d', ' x']:
    for v in tag_values:
        add('{"%s":%s}' % (tag, v))
        add('[{"%s":%s}]' % (tag, v))
        add('{"%s":%s,"%s":1}' % (tag, v, tag))
for a in [' t', ' m', ' b', ' d', ' di']:
    for b in [' t', ' m', ' b', ' d', ' di', ' u']:
        for v in ['"YWI="', '[1]', '{"ab__":2}', '"Tue, 02 Jan 2024 03:04:05 GMT"', '"12345678123456781234567812345678"']:
            add('{"%s":{"%s":%s}}' % (a, b, v))

# ---- top level and session-shaped payloads
for t in ['{" t":[["a",1]]}', '{" d":"x"}', '{" t":[]}', '"x"', '5', '[["a",1]]',
          '{"_flashes":[{" t":["message","hi"]}],"_permanent":true,"user":"u"}',
          '{"x":{" di":{" t__":{" t":[1,{" b":"AP8="}]}}}}']:
    add(t)

# ---- base64 (TagBytes uses b64decode without validation)
alphabet = 'AB+/=-_!\u00e9 \n0a'
for _ in range(1000):
    s = ''.join(rnd.choice(alphabet) for _ in range(rnd.randrange(0, 14)))
    add(json.dumps({" b": s}))

# ---- UUIDs (uuid.UUID(hex))
H = '12345678123456781234567812345678'
for s in [H, H.upper(), str(uuid.UUID(H)), '{' + H + '}', '{{' + H + '}}', 'urn:uuid:' + H, 'uuid:' + H,
          'uurn:uid:' + H, '--' + H + '--', ' ' + H[1:], H[1:] + ' ', '\u00a0' + H[1:], '0x' + H[2:], '0X' + H[2:],
          '0x_' + H[3:], '+' + H[1:], '-' + H[1:], '-' + '0' * 31, '_' + H[1:], H[:4] + '_' + H[5:],
          H[:4] + '__' + H[6:], H[:-1] + '_', '\u0661' + H[1:], '\u0661\u0662' + H[2:], '\u00b2' + H[1:], H[:-1],
          H + '0', H[:-1] + 'g', '\uff11' + H[1:], 'ab', '', '{' * 3 + H, H + '}-', '0x' + H, '12345678-1234-5678-1234-5678123456789'[:-1],
          'URN:UUID:' + H, '\u2003' + H[1:], '\x1c' + H[1:], '\x0b' + H[1:], '\x85' + H[1:], H[1:] + '\x7f', '1' + '\u0000' + H[2:]]:
    add(json.dumps({" u": s}))

# ---- dates (Werkzeug parse_date over email.utils)
days = ['Tue,', 'Tue', 'tue,', 'TUESDAY,', 'Tuesday,', 'Xyz,', 'Mon', '']
dds = ['02', '2', '2,', '31', '32', '0', '-1', '+2', '0_2', '\u0662', '\u00b2', '29', '30']
mms = ['Jan', 'jan', 'JANUARY', 'Feb', 'feb,', 'May', 'Dec', 'Foo', '\u017fep', 'Sep']
yys = ['2024', '24', '69', '68', '99', '00', '100', '0100', '999', '9999', '10000', '-5', '+2024', '2_024',
       '\u0662\u0660\u0662\u0664', '\u00b2024', '2147483647', '2147483648', '99999999999', '2024,', ',']
tms = ['03:04:05', '03:04', '3.4.5', '3.4', '24:00:00', '23:59:60', '23:59:59', '03:04:05,', '3:4:5:6', '03',
       '03.04.05.06', '-1:00', '03:04:05.5', '\u0660\u0663:04']
tzs = ['GMT', 'gmt', 'UTC', 'UT', 'Z', '+0200', '-0200', '-0000', '+0000', 'EST', 'pdt', 'AST', 'ADT', 'EDT', 'CST',
       'CDT', 'MST', 'MDT', 'PST', 'e\u017ft', 'e\ufb06',
       '+9999', '+2400', '+2359', '-2359', '', '+99999999999999', '+1000000000000000', '-0', '+0', 'foo', '+02_00',
       '+\u0660\u0662\u0660\u0660', '+0099', '-0130', '+9999999']
for _ in range(3000):
    parts = [rnd.choice(days), rnd.choice(dds), rnd.choice(mms), rnd.choice(yys), rnd.choice(tms), rnd.choice(tzs)]
    if rnd.random() < 0.15:  # month first (asctime-like) sometimes
        parts[1], parts[2] = parts[2], parts[1]
    if rnd.random() < 0.1:  # time and year swapped
        parts[3], parts[4] = parts[4], parts[3]
    sep = rnd.choice([' ', ' ', '  ', '\t', '\u2003', '\x1c', '\x85'])
    add(json.dumps({" d": sep.join(p for p in parts if p)}))
for s in ['Tue, 02 Jan 2024 03:04:05 GMT', 'Tuesday, 02-Jan-24 03:04:05 GMT', 'Tue Jan  2 03:04:05 2024',
          '02-Jan-2024 03:04:05', '2-Jan-24 03:04', 'Tue, 02 Jan 2024 03:04:05', 'Tue,02 Jan 2024 03:04:05 GMT',
          'x,Tue, 02 Jan 2024', 'Tue, 02 Jan 2024 03:04:05+0200', 'Tue, 02 Jan 2024 03:04:05-0200',
          '02 Jan 2024 03:04:05 -0200 extra', 'Jan 02 2024 03:04:05', '2024 Jan 02 03:04:05',
          'Tue, 02 Jan 2024 03:04:05 GMT,', '02 jan 2024 03:04:05 gmt', '  ', ',', 'Tue,', 'a b c d e',
          'Tue, 29 Feb 2023 00:00:00 GMT', 'Tue, 29 Feb 2024 00:00:00 GMT', 'Fri, 31 Dec 9999 23:59:59 -2359',
          'Mon, 01 Jan 0100 00:00:00 +0001', '02 Jan 2024 03:04:05 +' + '9' * 4301, '02 Jan 2024 03:04:05 +' + '9' * 4300,
          '02 Jan ' + '1' * 4301 + ' 03:04:05', '02 Jan ' + '1' * 4300 + ' 03:04:05', 'Mon, 01 Jan 100 00:00:00 +2359', '02 Jan 2024 03:04:05 +0200\u00a0'] + ['Tue, 02 Jan 2024 03:04:05 ' + z for z in
          ['UT', 'UTC', 'GMT', 'Z', 'AST', 'ADT', 'EST', 'EDT', 'CST', 'CDT', 'MST', 'MDT', 'PST', 'PDT', 'ut', 'Ut']]:
    add(json.dumps({" d": s}))
for _ in range(300):  # Flask's own output for random datetimes
    t = dt.datetime(rnd.randrange(1, 10000), rnd.randrange(1, 13), rnd.randrange(1, 29), rnd.randrange(24),
                    rnd.randrange(60), rnd.randrange(60))
    with app.app_context():
        add(S.dumps({"d": t}))

seen = set()
loads = []
with app.app_context():
    for text in loads_inputs:
        if text in seen:
            continue
        seen.add(text)
        e = {"json": text}
        try:
            v = S.loads(text)
        except Exception as exc:  # noqa: BLE001
            e["ok"] = False
            e["exc"] = type(exc).__name__
            loads.append(e)
            continue
        e["ok"] = True
        if not has_surrogate(v):
            e["value"] = jsonable(v)
        try:
            e["redump"] = S.dumps(v)
        except Exception:  # noqa: BLE001
            e["redump"] = None
        loads.append(e)

floats = []
specials = [0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 1e16, 1e15, 9999999999999998.0, 1e17, 1.2345678901234567e16, 0.0001,
            0.00001, 0.00012345, 1e-5, 1.5e-5, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 1e22, 1e21,
            123456789.0, 1e100, 1.5, 100.0, 3.141592653589793, 2.0 ** 53, 2.0 ** 63, 2.0 ** 64, 0.3]
for f in specials:
    floats.append(f)
for _ in range(1500):
    bits = rnd.getrandbits(64)
    f = struct.unpack('<d', struct.pack('<Q', bits))[0]
    if math.isfinite(f):
        floats.append(f)
for _ in range(1000):
    floats.append(float('%.*e' % (rnd.randrange(0, 17), rnd.uniform(1, 10) * 10.0 ** rnd.randrange(-30, 30))))
with app.app_context():
    floats = [[f.hex(), S.dumps({"v": f})] for f in floats]

strings = []
pools = [range(0, 0x80), range(0x80, 0x800), range(0x800, 0x10000), range(0xD800, 0xE000), range(0x10000, 0x110000),
         [0x7f, 0x2028, 0x2029, 0xfeff, 0xfffd, 0xffff, 0x22, 0x5c, 0x2f, 0x8, 0xc, 0xa, 0xd, 0x9, 0x0]]
for _ in range(1000):
    cps = [rnd.choice(rnd.choice(pools)) for _ in range(rnd.randrange(0, 8))]
    s = ''.join(chr(c) for c in cps)
    with app.app_context():
        strings.append([cps, S.dumps({"s": s})])

json.dump({"generated_by": "testdata/gen_pyvectors.py", "python": sys.version.split()[0],
           "loads": loads, "floats": floats, "strings": strings},
          sys.stdout, ensure_ascii=True, indent=None, allow_nan=False)
sys.stdout.write("\n")
