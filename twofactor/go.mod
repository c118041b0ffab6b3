module github.com/seshat-go/seshat/twofactor

go 1.25.0

require (
	github.com/pquerna/otp v1.5.0
	github.com/seshat-go/seshat v0.0.0
)

require github.com/boombuler/barcode v1.0.1-0.20190219062509-6c824513bacc // indirect

replace github.com/seshat-go/seshat => ../
