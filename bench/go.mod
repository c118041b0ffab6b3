module github.com/seshat-go/seshat/bench

go 1.25.0

require github.com/seshat-go/seshat v0.0.0

require github.com/alexedwards/scs/v2 v2.9.0

replace github.com/seshat-go/seshat => ../
