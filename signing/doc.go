// Package signing is a port of Python's itsdangerous (2.1 and 2.2; both
// produce the same bytes), the signing library under Flask's session cookie,
// Flask-WTF's CSRF tokens and Flask-Session's signed session ids. Tokens made
// here verify in Python and the other way round; the tests run every vector
// recorded from the real library.
//
// # Types and formats
//
// Each type mirrors the itsdangerous class of the same name:
//
//	Signer                  value.SIG
//	TimestampSigner         value.TS.SIG
//	Serializer              JSON.SIG
//	URLSafeSerializer       BODY.SIG
//	URLSafeTimedSerializer  BODY.TS.SIG      (Flask's session cookie format)
//
// "." is the default separator (Options.Sep). SIG is base64url without
// padding of HMAC(key, everything before the last separator), with the key
// derived once from each secret and the salt (Options.KeyDerivation: H(salt ‖
// "signer" ‖ secret) by default, HMAC(secret, salt) for Flask's session). TS
// is base64url of the signing time in Unix seconds, big-endian with leading
// zero bytes dropped. BODY is base64url of the JSON, or "." followed by
// base64url of the zlib-compressed JSON when that is shorter by two bytes or
// more ([CompressAuto], itsdangerous's rule), so a compressed token starts
// with ".". The helpers [AppendURLSafeBody] and [DecodeURLSafeBody] expose the
// BODY encoding alone, for callers with their own codec (Flask's tagged JSON).
//
// # Key rotation
//
// Every constructor takes a list of secrets, oldest first. The last one signs;
// all of them verify, tried from newest to oldest. To rotate, append the new
// secret, deploy, and drop the old one once the tokens it signed have expired.
// Flask 3.1 builds this list from SECRET_KEY_FALLBACKS followed by SECRET_KEY.
//
// # Verification
//
// Signatures are compared in constant time (crypto/hmac.Equal). Nothing in a
// token is decoded before its signature has been verified, except the
// timestamp of a token that fails verification, which itsdangerous decodes (into
// at most 8 bytes) to report DateSigned. Decompression is capped
// (SerializerOptions.MaxDecompressedSize, 1 MiB by default) so that a zlib
// bomb costs at most about twice the cap, and only a correctly signed one gets
// that far.
//
// Base64 (signature, timestamp, body) is decoded the way Python decodes it,
// which is more lenient than encoding/base64. itsdangerous adds '=' up to a
// multiple of four characters, counting every byte, then decodes in
// non-strict mode: bytes outside the alphabet are skipped; "+/" are accepted
// as well as "-_"; a '=' after two or three characters of a quantum is
// padding, and once it completes the quantum the rest is ignored; the unused
// low bits of a final partial quantum are ignored. Only a final quantum of
// one character, or one left incomplete, is an error. Accepting these
// variants is harmless: the signature is compared as decoded bytes, so a
// variant spelling of a valid signature carries the same MAC, and everything
// before the signature is covered by the MAC byte for byte. They only need to
// be accepted because itsdangerous accepts them.
//
// # Errors
//
// Bad tokens yield an [*Error] whose Kind is one of the sentinels mirroring
// itsdangerous's exception classes; errors.Is follows the class hierarchy
// (an expired signature is also a bad time signature, a bad signature and bad
// data; a bad payload is bad data but not a bad signature). Error.Message is
// itsdangerous's exact message, Payload and DateSigned its exception
// attributes. Error.Error() is a fixed description that never contains token
// bytes or keys, so it is safe to log; Message is not (it quotes the
// signature).
//
// # Interoperability with Flask
//
// The zero options are itsdangerous's defaults. To read or write a token of a
// Python application, every option that affects the bytes must match what the
// application uses: the secrets (a Python str secret is its UTF-8 bytes), the
// salt, Sep, KeyDerivation, Digest and the codec. Flask's session cookie, for
// example, is a URLSafeTimedSerializer with salt "cookie-session",
// KeyDerivation HMAC, SHA1 and Flask's tagged-JSON codec (not [JSON]): any
// other value there produces cookies Flask rejects as badly signed. Choices
// that do not break interoperability: Compression (Python reads both forms)
// and the clock. MaxDecompressedSize is a limit Python does not have: a
// legitimately signed payload that decompresses beyond it is rejected here.
//
// Differences from Python, all outside what Python itself produces:
// map keys are written sorted (Python keeps insertion order) and a float64
// with an integral value is written as 3 rather than 3.0; NaN and ±Inf cannot
// be encoded (Python writes the non-standard NaN/Infinity); timestamps after
// the year 9999 are "Malformed timestamp" (Python's datetime cannot represent
// them and raises ValueError on some paths); signing times before 1970 are
// written as timestamp 0 (Python raises); empty secrets are rejected. zlib
// output differs byte for byte from Python's (each side reads the other), so
// CompressAuto can decide differently near the two-byte boundary.
//
// # Performance
//
// Derived keys are computed at construction, and each key keeps a pool of
// ready HMAC states, so signing and verifying allocate nothing beyond their
// result (Unsign returns a slice of its input). For compression the package
// has its own small zlib encoder and decoder, sized for cookies: compress/flate
// spends several microseconds per stream preparing Huffman tables, more than
// the rest of a cookie round trip, and CompressAuto has to try compressing
// every payload. Both produce and accept standard RFC 1950 streams; the
// decoder applies zlib's (Python's) validity rules and is tested against
// compress/flate.
//
// All types are safe for concurrent use. The package keeps no mutable global
// state other than sync.Pools.
package signing
