module github.com/seshat-go/seshat/interop

go 1.25.0

require github.com/seshat-go/seshat v0.0.0

replace github.com/seshat-go/seshat => ../
