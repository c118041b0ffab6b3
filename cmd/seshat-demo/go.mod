module github.com/seshat-go/seshat/cmd/seshat-demo

go 1.25.0

require (
	github.com/coder/websocket v1.8.15
	github.com/go-sql-driver/mysql v1.10.1
	github.com/jackc/pgx/v5 v5.12.0
	github.com/pquerna/otp v1.5.0
	github.com/redis/go-redis/v9 v9.22.0
	github.com/seshat-go/seshat v0.0.0
	github.com/seshat-go/seshat/mysqlstore v0.0.0
	github.com/seshat-go/seshat/pgstore v0.0.0
	github.com/seshat-go/seshat/redisstore v0.0.0
	github.com/seshat-go/seshat/sqlitestore v0.0.0
	golang.org/x/crypto v0.54.0
	modernc.org/sqlite v1.59.0
)

require github.com/boombuler/barcode v1.0.1-0.20190219062509-6c824513bacc // indirect

require (
	filippo.io/edwards25519 v1.2.0 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dustin/go-humanize v1.0.1 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/mattn/go-isatty v0.0.24 // indirect
	github.com/ncruces/go-strftime v1.0.0 // indirect
	github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec // indirect
	github.com/seshat-go/seshat/twofactor v0.0.0
	go.uber.org/atomic v1.11.0 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/text v0.41.0 // indirect
	modernc.org/libc v1.75.7 // indirect
	modernc.org/mathutil v1.7.1 // indirect
	modernc.org/memory v1.12.1 // indirect
)

replace (
	github.com/seshat-go/seshat => ../../
	github.com/seshat-go/seshat/mysqlstore => ../../mysqlstore
	github.com/seshat-go/seshat/pgstore => ../../pgstore
	github.com/seshat-go/seshat/redisstore => ../../redisstore
	github.com/seshat-go/seshat/sqlitestore => ../../sqlitestore
	github.com/seshat-go/seshat/twofactor => ../../twofactor
)
