package signing_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/seshat-go/seshat/signing"
)

func ExampleSigner() {
	s, err := signing.NewSigner([][]byte{[]byte("s3cr3t-key")}, signing.Options{})
	if err != nil {
		panic(err)
	}
	token := s.Sign([]byte("hello"))
	fmt.Println(string(token)) // itsdangerous.Signer("s3cr3t-key").sign("hello")

	value, err := s.Unsign(token)
	fmt.Println(string(value), err)

	_, err = s.Unsign([]byte("hello.forged"))
	fmt.Println(errors.Is(err, signing.ErrBadSignature), err)
	// Output:
	// hello.y3FgNxYLRsJpenwc4yNwRKSb3Xg
	// hello <nil>
	// true signing: signature does not match
}

func ExampleTimestampSigner_UnsignMaxAge() {
	signedAt := time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC)
	s, err := signing.NewTimestampSigner([][]byte{[]byte("s3cr3t-key")}, signing.Options{})
	if err != nil {
		panic(err)
	}
	token := s.SignAt([]byte("hello"), signedAt)
	fmt.Println(string(token))

	// Ten minutes later, with a one-hour limit.
	value, at, err := s.UnsignMaxAge(token, time.Hour, signedAt.Add(10*time.Minute))
	fmt.Println(string(value), at, err)

	// Two hours later.
	_, _, err = s.UnsignMaxAge(token, time.Hour, signedAt.Add(2*time.Hour))
	fmt.Println(err)
	// Output:
	// hello.ZVPxAA.WhQbv1Hz_rBJ6Sstens2Vos6rEw
	// hello 2023-11-14 22:13:20 +0000 UTC <nil>
	// signing: signature expired (age 7200s > 3600s)
}

// Rotating keys: the old key stays in the list (first) while tokens signed
// with it are still around; the new key (last) signs.
func ExampleURLSafeTimedSerializer_rotation() {
	now := time.Date(2024, 3, 9, 16, 0, 0, 0, time.UTC)
	opts := signing.SerializerOptions{Options: signing.Options{Now: func() time.Time { return now }}}
	oldKey, newKey := []byte("old-key-2023"), []byte("s3cr3t-key")

	before, _ := signing.NewURLSafeTimedSerializer([][]byte{oldKey}, opts)
	during, _ := signing.NewURLSafeTimedSerializer([][]byte{oldKey, newKey}, opts)
	after, _ := signing.NewURLSafeTimedSerializer([][]byte{newKey}, opts)

	oldToken, _ := before.Dumps(map[string]any{"user_id": 42})
	var v map[string]any
	_, err := during.LoadsMaxAge(oldToken, &v, 24*time.Hour)
	fmt.Println("old token during rotation:", v, err)

	newToken, _ := during.Dumps(map[string]any{"user_id": 42})
	fmt.Println(newToken) // what itsdangerous writes with the same keys and time
	_, err = after.LoadsMaxAge(newToken, &v, 24*time.Hour)
	fmt.Println("new token after rotation:", err)
	_, err = after.LoadsMaxAge(oldToken, &v, 24*time.Hour)
	fmt.Println("old token after rotation:", err)
	// Output:
	// old token during rotation: map[user_id:42] <nil>
	// eyJ1c2VyX2lkIjo0Mn0.ZeyHgA.vfsdzx9KIC4U-6V33ZHBcilvYFg
	// new token after rotation: <nil>
	// old token after rotation: signing: signature does not match
}

// An expired token matches ErrSignatureExpired and, like every signature
// problem, ErrBadSignature; Message is itsdangerous's text.
func Example_expiredToken() {
	issued := time.Date(2024, 3, 9, 16, 0, 0, 0, time.UTC)
	now := issued
	s, _ := signing.NewURLSafeTimedSerializer([][]byte{[]byte("s3cr3t-key")}, signing.SerializerOptions{
		Options: signing.Options{Salt: []byte("email-confirm"), Now: func() time.Time { return now }},
	})
	token, _ := s.Dumps("alice@example.com")

	now = issued.Add(25 * time.Hour)
	var email string
	_, err := s.LoadsMaxAge(token, &email, 24*time.Hour)

	var e *signing.Error
	if errors.As(err, &e) {
		fmt.Println(e.Message, "| signed", e.DateSigned)
	}
	fmt.Println(errors.Is(err, signing.ErrSignatureExpired), errors.Is(err, signing.ErrBadSignature), errors.Is(err, signing.ErrBadPayload))
	// Output:
	// Signature age 90000 > 86400 seconds | signed 2024-03-09 16:00:00 +0000 UTC
	// true true false
}
