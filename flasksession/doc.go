// Package flasksession shares server-side sessions with a Flask app that
// uses Flask-Session 0.3.2 (Debian's python3-flask-session): both apps read
// and write the same records in the same store, under the same cookie, and
// see each other's writes.
//
// It provides the three pieces a seshat.Manager needs for that:
//
//   - IDScheme, Flask-Session's session ids, for seshat.Config.IDScheme;
//   - FileStore, a seshat.Store over Flask-Session's filesystem layout
//     (SESSION_TYPE="filesystem"); module
//     github.com/seshat-go/seshat/flasksessionredis has the Redis one;
//   - a strict pickle decoder (Decoder, DecodePickle) and a pickle encoder
//     (EncodePickle) for the session dicts, and Codec, which converts them
//     to and from seshat.Record.
//
// # Session ids and cookies
//
// Flask-Session names a session with str(uuid.uuid4()). Its cookie holds
// that id, or, with SESSION_USE_SIGNER=True, "id.SIGNATURE" where the
// signature comes from itsdangerous's Signer(SECRET_KEY,
// salt="flask-session", key_derivation="hmac") with SHA-1 and no timestamp.
// The store key is SESSION_KEY_PREFIX (default "session:") followed by the
// id. Configure the Manager with the same cookie name as the Flask app
// (SESSION_COOKIE_NAME, default "session"):
//
//	ids, err := flasksession.NewIDScheme(flasksession.IDOptions{Keys: [][]byte{secretKey}})
//	store, err := flasksession.NewFileStore(dir, flasksession.FileStoreOptions{})
//	m, err := seshat.New(seshat.Config{Keys: ..., Store: store, IDScheme: ids})
//
// # Redis layout
//
// Key SESSION_KEY_PREFIX+id; value pickle.dumps(dict(session)) at Python's
// default protocol (4); written with SETEX and PERMANENT_SESSION_LIFETIME in
// whole seconds. Flask-Session reads the record and rewrites it whole on
// every request, and deletes it (DEL) when the session is emptied.
//
// # Filesystem layout
//
// SESSION_FILE_DIR holds a cachelib FileSystemCache: each session is a file
// named by the hex MD5 of the UTF-8 cache key (SESSION_KEY_PREFIX+id). The
// file is a little-endian uint32 expiry in Unix seconds (0 = never)
// followed by the pickled dict at protocol 5 (pickle.HIGHEST_PROTOCOL).
// cachelib writes a temporary file "tmp*.__wz_cache" and renames it into
// place. The file named by the MD5 of "__wz_cache_count" holds the number of
// session files (expiry 0, then a pickled int); when it exceeds
// SESSION_FILE_THRESHOLD (default 500), a write first deletes expired
// sessions and then the ones closest to expiry. FileStore maintains the
// count and prunes exactly as cachelib does, so keep FileStoreOptions equal
// to the Flask app's settings, and give the sessions a directory of their
// own: cachelib counts, reads and prunes every file in it.
//
// # Values
//
// Every dict value crosses between Python and Go through taggedjson's
// model: str, bytes, int (any size that fits pickle's LONG1, 255 bytes),
// float, bool, None, list, tuple and dict with str keys, nested freely.
// "_permanent" is an ordinary key in both Flask-Session and seshat. Python
// pickles datetime, UUID, Markup and every other class as instructions to
// import and call code; the decoder does not run them: a record holding one
// cannot be read on the Go side (Load fails, and the Manager answers 503
// rather than replace the Flask app's session with an empty one), and
// EncodePickle refuses time.Time, taggedjson.UUID and taggedjson.Markup
// values. A record that is not a pickled dict at all (garbage, truncated)
// is reported as seshat.ErrCorruptRecord, and the Manager starts a fresh
// session, as Flask-Session itself does. Keep such values out of shared sessions (store an ISO string
// instead of a datetime). Dicts with non-str keys are refused rather than
// having their keys silently turned into strings.
//
// Flask-Session has no place for a session's owner (seshat.Record.UserID):
// Codec keeps it in the dict under OwnerKey (default "_seshat_user").
//
// # Security
//
// Unpickling untrusted data runs arbitrary code in Python. The decoder here
// only reads plain data: it accepts the 33 opcodes in AcceptedOpcodes
// (PROTO, FRAME, STOP, the containers, memo, str, bytes, int, float, bool
// and None opcodes) and refuses everything else — GLOBAL, STACK_GLOBAL,
// REDUCE, BUILD, NEWOBJ, NEWOBJ_EX, INST, OBJ, PERSID, BINPERSID, EXT1/2/4,
// and unknown bytes — with ErrUnsupportedOpcode naming the opcode, before
// anything is constructed. Its Limits bound the input size, nesting depth,
// memo size and, because the memo lets one object be referenced many times,
// the size of the result counted per reference, so a small pickle cannot
// expand into a huge value; recursive structures are refused.
//
// Still, whoever can write to the store can forge any session, and the
// Flask app will unpickle whatever is there: protect the Redis server and
// the session directory as you would the app's secret key.
//
// Use signed ids (SESSION_USE_SIGNER=True, IDOptions.Keys). With unsigned
// ids, Flask-Session adopts any id a client presents and creates the
// session under it (session fixation): an attacker who can set a cookie in
// a victim's browser chooses the id of the session the victim then logs
// into. seshat itself never adopts an id without a record (it mints a new
// one), and renews the id on login when the app calls Session.Renew, but
// the Flask side sharing the store does neither; IDOptions.Unsigned exists
// only for apps that cannot switch.
//
// # Concurrency
//
// The stores implement seshat.Merger, so concurrent seshat requests that
// change different keys of one session all persist. Flask-Session, however,
// rewrites the whole record at the end of every request, even a read-only
// one: a Flask request that overlaps a seshat request on the same session
// can still undo the seshat request's changes (and the other way round for
// keys the Flask request changed). That is Flask-Session's behaviour among
// its own concurrent requests too.
package flasksession
