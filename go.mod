module github.com/seshat-go/seshat

go 1.25.0
